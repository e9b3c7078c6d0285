"""An experiment's summary: per variant and scorer, the figures of :mod:`.stats`, and the
Markdown table a notebook shows (with the paired verdicts and the scorers that failed).

Pure functions of the trials: the live run, a loaded file and a test all get the same table.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from ..markdown.safety import escape_text
from ..usage import dollars
from .scorers import PASS_AT
from .stats import Paired, clustered_mean, paired, stability, wilson
from .trial import Trial

__all__ = ["by_input", "scorer_summary", "summary_table", "verdicts"]


def by_input(trials: Iterable[Trial], scorer: str) -> dict[int, list[float]]:
    """Each input's scores (one per answered repeat; a scorer's NaN left out)."""
    found: dict[int, list[float]] = defaultdict(list)
    for trial in trials:
        value = trial.scores.get(scorer, math.nan)
        if trial.error is None and not math.isnan(value):
            found[trial.input].append(value)
    return dict(found)


def scorer_failures(trials: Iterable[Trial], scorer: str) -> tuple[int, str]:
    """How many answered trials the scorer failed on (it raised: NaN), and the first reason."""
    failed = [t for t in trials if t.error is None and math.isnan(t.scores.get(scorer, math.nan))]
    return len(failed), (failed[0].reasons.get(scorer, "") if failed else "")


def scorer_summary(scorer: str, trials: Sequence[Trial]) -> dict[str, Any]:
    """Mean and 95% interval over inputs, pass rate and its Wilson interval, stability, and
    how many trials the scorer itself failed on."""
    scores = by_input(trials, scorer)
    estimate = clustered_mean(scores)
    shares = [statistics.fmean(v >= PASS_AT for v in values) for values in scores.values()]
    low, high = wilson(sum(shares), len(shares))
    failures, reason = scorer_failures(trials, scorer)
    return {
        scorer: estimate.mean,
        f"{scorer} ±": estimate.half,
        f"{scorer} pass": statistics.fmean(shares) if shares else math.nan,
        f"{scorer} pass low": low,
        f"{scorer} pass high": high,
        f"{scorer} stable": stability([[v >= PASS_AT for v in s] for s in scores.values()]),
        f"{scorer} inputs": estimate.n,
        f"{scorer} scorer failed": failures,
        f"{scorer} scorer error": reason,
    }


def verdicts(
    trials: Sequence[Trial], variants: Sequence[str], scorers: Sequence[str], against: str
) -> list[tuple[str, Paired]]:
    """Each other variant against ``against``, per scorer: (scorer, the paired comparison)."""
    base = [t for t in trials if t.variant == against]
    found = []
    for scorer in scorers:
        before = by_input(base, scorer)
        for variant in variants:
            if variant != against:
                now = by_input([t for t in trials if t.variant == variant], scorer)
                found.append((scorer, paired(against, variant, before, now)))
    return found


def _number(value: float | None, form: str) -> str:
    return "" if value is None or math.isnan(value) else format(value, form)


def _pass_cell(row: dict[str, Any], scorer: str) -> str:
    rate = _number(row[f"{scorer} pass"], ".0%")
    low, high = row[f"{scorer} pass low"], row[f"{scorer} pass high"]
    return f"{rate} ({low:.0%}–{high:.0%})" if rate and not math.isnan(low) else rate


def _scorer_cells(row: dict[str, Any], scorer: str, repeated: bool) -> list[str]:
    spread, mean = _number(row[f"{scorer} ±"], ".2f"), _number(row[f"{scorer} mean"], ".2f")
    cells = [f"{mean} ± {spread}" if spread else mean, _pass_cell(row, scorer)]
    if repeated:
        cells.append(_number(row[f"{scorer} stable"], ".0%"))
    return cells


def _head(scorers: Sequence[str], repeated: bool) -> tuple[str, str]:
    head = ["variant", "trials", "failed"]
    align = "|---|---:|---:|"
    for scorer in scorers:
        head += [f"{scorer} (95% CI)", "pass (95% CI)"] + (["stable"] if repeated else [])
        align += "---:|---:|" + ("---:|" if repeated else "")
    head += ["first token", "total", "cost"]
    # Names (a variant's, a scorer's) come from the caller or a file: plain text in the cells.
    return "| " + " | ".join(escape_text(h, 80) for h in head) + " |", align + "---:|---:|---:|"


def summary_table(
    rows: list[dict[str, Any]],
    scorers: Sequence[str],
    *,
    interrupted: bool,
    repeated: bool = False,
    compared: Sequence[tuple[str, Paired]] = (),
) -> str:
    """The summary as a Markdown table, then the scorers that failed and the verdicts."""
    lines = list(_head(scorers, repeated))
    for row in rows:
        cells = [escape_text(str(row["variant"]), 80), str(row["trials"]), str(row["failed"])]
        for scorer in scorers:
            cells += _scorer_cells({**row, f"{scorer} mean": row[scorer]}, scorer, repeated)
        cells += [
            _number(row["ttft_s"], ".2f") + " s" if row["ttft_s"] is not None else "",
            _number(row["total_s"], ".2f") + " s" if row["total_s"] is not None else "",
            dollars(row["cost_usd"], markdown=True) if row["cost_usd"] is not None else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += _notes(rows, scorers, compared)
    if interrupted:
        lines.append("\n*Interrupted: the trials above are those that finished.*")
    return "\n".join(lines)


def _notes(
    rows: list[dict[str, Any]], scorers: Sequence[str], compared: Sequence[tuple[str, Paired]]
) -> list[str]:
    notes = []
    for row in rows:
        for scorer in scorers:
            count, reason = row[f"{scorer} scorer failed"], row[f"{scorer} scorer error"]
            if count:
                notes.append(
                    f"- **{escape_text(scorer, 80)}** failed on {count} of "
                    f"{escape_text(str(row['variant']), 80)}'s answers (not counted in its "
                    f"score): {escape_text(reason, 300)}"
                )
    for scorer, comparison in compared:
        notes.append(f"- {escape_text(scorer, 80)}: {escape_text(comparison.verdict(), 400)}")
    return ["", *notes] if notes else []
