"""Prompt experiments: inputs x variants x repeats, scored, summarised, compared with a baseline.

* :func:`experiment` (:mod:`~chatnb.experiments.runner`): live, concurrent and rate-limit aware,
  or through the Batch API (:mod:`~chatnb.experiments.batch`);
* :mod:`~chatnb.experiments.scorers`: functions of the answer, built-ins, and an LLM judge;
* :class:`Experiment` (:mod:`~chatnb.experiments.results`): the trials, the summary, the plot,
  the diff against a baseline.
"""

from __future__ import annotations

from .inputs import Case, cases
from .diff import Diff
from .results import Experiment, Trial
from .runner import experiment
from .scorers import Score, Verdict, contains, equals, judge, matches, valid_json
from .throttle import Throttle

__all__ = [
    "Case",
    "Diff",
    "Experiment",
    "Score",
    "Throttle",
    "Trial",
    "Verdict",
    "cases",
    "contains",
    "equals",
    "experiment",
    "judge",
    "matches",
    "valid_json",
]
