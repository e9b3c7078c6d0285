"""Checks written once, run in the cell and under pytest: what an experiment must show.

::

    from chatnb.experiments import checks
    CHECKS = [
        checks.pass_rate("contains 'Paris'", at_least=0.8),   # Wilson lower bound >= 0.8
        checks.not_worse("v3", than="v1"),                    # paired, over shared inputs
        checks.cost(at_most=0.05), checks.latency(at_most_s=2.0),
    ]
    results.check(*CHECKS)             # in a notebook: a verdict table, one row per check
    results.check(*CHECKS).require()   # under pytest: ExpectationError with the report

A JSON schema or a judge rubric is a scorer (``valid_json(Model)``, ``judge("...")``); its
check is ``pass_rate`` or ``mean_score`` on that scorer. A check is any function of the
:class:`~chatnb.experiments.Experiment` returning :class:`Outcome` objects (one per variant).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..usage import dollars
from .report import Outcome

if TYPE_CHECKING:
    from .results import Experiment

#: A check: a function of the results, an outcome per variant it looked at.
Check = Callable[["Experiment"], list[Outcome]]

__all__ = [
    "Check",
    "cost",
    "latency",
    "mean_score",
    "no_failures",
    "not_worse",
    "pass_rate",
]


def _variants(results: Experiment, variant: str | None) -> list[str]:
    if variant is not None and variant not in results.variants:
        raise ValueError(f"No variant is named {variant!r}; the variants: {results.variants}")
    return [variant] if variant is not None else list(results.variants)


def pass_rate(scorer: str, at_least: float, *, variant: str | None = None) -> Check:
    """The pass rate is at least ``at_least`` with 95% confidence: the lower end of its Wilson
    interval (over inputs) is ``>= at_least``, for ``variant`` (default: every variant)."""

    def check(results: Experiment) -> list[Outcome]:
        name = results._scorer(scorer)
        rows = {row["variant"]: row for row in results.summary()}
        found = []
        for v in _variants(results, variant):
            row = rows[v]
            low, rate = row[f"{name} pass low"], row[f"{name} pass"]
            what = f"{v}: {name} pass rate >= {at_least:.0%} with 95% confidence"
            seen = f"{rate:.0%} of {row[f'{name} inputs']} inputs, 95% CI from {low:.1%}"
            found.append(Outcome(what, not math.isnan(low) and low >= at_least, seen))
        return found

    return check


def mean_score(scorer: str, at_least: float, *, variant: str | None = None) -> Check:
    """The mean score is at least ``at_least`` with 95% confidence (the interval over inputs)."""

    def check(results: Experiment) -> list[Outcome]:
        name = results._scorer(scorer)
        rows = {row["variant"]: row for row in results.summary()}
        found = []
        for v in _variants(results, variant):
            mean, half = rows[v][name], rows[v][f"{name} ±"]
            low = mean - half
            what = f"{v}: mean {name} >= {at_least:.2f} with 95% confidence"
            seen = f"{mean:.3f} ± {half:.3f} (from {low:.3f})"
            found.append(Outcome(what, not math.isnan(low) and low >= at_least, seen))
        return found

    return check


def not_worse(variant: str, than: str, *, scorer: str | None = None, margin: float = 0.0) -> Check:
    """``variant`` is not worse than ``than`` by more than ``margin``: the lower end of the
    paired difference's 95% interval (over the inputs both scored) is ``>= -margin``."""

    def check(results: Experiment) -> list[Outcome]:
        name = results._scorer(scorer)
        comparison = results.paired(than, variant, name)
        estimate = comparison.estimate
        held = estimate.n >= 2 and not math.isnan(estimate.low) and estimate.low >= -margin
        what = f"{variant} not worse than {than} on {name}" + (f" by {margin}" if margin else "")
        return [Outcome(what, held, comparison.verdict())]

    return check


def cost(at_most: float, *, variant: str | None = None) -> Check:
    """The run's cost (each variant's) is at most ``at_most`` dollars."""

    def check(results: Experiment) -> list[Outcome]:
        rows = {row["variant"]: row for row in results.summary()}
        found = []
        for v in _variants(results, variant):
            spent = rows[v]["cost_usd"] or 0.0
            what = f"{v}: cost <= {dollars(at_most)}"
            found.append(Outcome(what, spent <= at_most, f"{dollars(spent)}"))
        return found

    return check


def latency(at_most_s: float, *, quantile: float = 0.95, variant: str | None = None) -> Check:
    """The ``quantile`` (default: 95th percentile) of answers' total time is at most
    ``at_most_s`` seconds (answers replayed from a cache take their recorded time)."""

    def check(results: Experiment) -> list[Outcome]:
        found = []
        for v in _variants(results, variant):
            times = sorted(t.total_s for t in results if t.variant == v and t.total_s is not None)
            what = f"{v}: {quantile:.0%} of answers within {at_most_s:g} s"
            if not times:
                found.append(Outcome(what, False, "no answer with a time"))
                continue
            seen = times[min(len(times) - 1, math.ceil(quantile * len(times)) - 1)]
            found.append(Outcome(what, seen <= at_most_s, f"{seen:.2f} s ({len(times)} answers)"))
        return found

    return check


def no_failures(*, variant: str | None = None) -> Check:
    """Every trial got an answer (no request failed)."""

    def check(results: Experiment) -> list[Outcome]:
        found = []
        for v in _variants(results, variant):
            failed = [t for t in results if t.variant == v and t.error is not None]
            detail = f"{len(failed)} failed" + (f", the first: {failed[0].error}" if failed else "")
            found.append(Outcome(f"{v}: no failed trials", not failed, detail))
        return found

    return check
