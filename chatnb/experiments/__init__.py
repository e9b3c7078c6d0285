"""Prompt experiments: inputs x variants x repeats, scored, summarised, compared with a baseline.

* :func:`experiment` (:mod:`~chatnb.experiments.runner`): live, concurrent and rate-limit aware,
  or through the Batch API (:mod:`~chatnb.experiments.batch`);
* :mod:`~chatnb.experiments.scorers`: functions of the answer, built-ins, and an LLM judge;
* :class:`Experiment` (:mod:`~chatnb.experiments.results`): the trials, the summary, the plot,
  the diff against a baseline; its statistics (:mod:`~chatnb.experiments.stats`) treat the
  inputs as the sample, and compare variants paired over shared inputs;
* :mod:`~chatnb.experiments.checks`: what the results must show, run in the cell and under
  pytest (:mod:`~chatnb.experiments.pytest_plugin`, replayed from the cache);
* :mod:`~chatnb.experiments.versions`: each variant's prompt, kept by content hash.
"""

from __future__ import annotations

from . import checks
from .inputs import Case, cases
from .report import Report
from .results import Diff, Experiment, Trial
from .runner import experiment
from .scorers import Score, Verdict, contains, equals, judge, matches, valid_json
from .throttle import Throttle

__all__ = [
    "Case",
    "Diff",
    "Experiment",
    "Report",
    "Score",
    "Throttle",
    "Trial",
    "Verdict",
    "cases",
    "checks",
    "contains",
    "equals",
    "experiment",
    "judge",
    "matches",
    "valid_json",
]
