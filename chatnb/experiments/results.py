"""What an experiment found: one trial per input x variant x repeat, and what they add up to.

:class:`Experiment` is a list of :class:`Trial` with the views people want: ``to_records()`` /
``to_dataframe()`` (one row per trial), ``summary()`` (per variant: each scorer's mean with a
95% confidence interval across repeats, its pass rate, failures, cost and latency), a Markdown
table in a notebook, ``plot()``, ``save()`` / ``load()``, and ``diff(baseline)``.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..safety import escape_text
from ..usage import dollars
from .scorers import PASS_AT

__all__ = ["Diff", "Experiment", "Trial"]

# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom (beyond: the normal 1.96).
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042]  # fmt: skip


@dataclass
class Trial:
    """One answer of an experiment: which input, variant and repeat; what came back; scores."""

    input: int
    prompt: str
    variant: str
    repeat: int
    answer: str = ""
    error: str | None = None
    ttft_s: float | None = None
    total_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    row: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.input, self.variant, self.repeat)

    def record(self) -> dict[str, Any]:
        """A flat dict: one row of a DataFrame."""
        fields = asdict(self)
        scores, reasons, row = fields.pop("scores"), fields.pop("reasons"), fields.pop("row")
        return {
            **{f"input.{k}": v for k, v in row.items()},
            **fields,
            **{f"score.{k}": v for k, v in scores.items()},
            **{f"reason.{k}": v for k, v in reasons.items()},
        }


def interval(values: list[float]) -> tuple[float, float]:
    """The mean of ``values`` and the half-width of its 95% confidence interval (Student's t;
    NaN with fewer than two values)."""
    if not values:
        return math.nan, math.nan
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, math.nan
    t = _T95[len(values) - 2] if len(values) - 1 <= len(_T95) else 1.96
    return mean, t * statistics.stdev(values) / math.sqrt(len(values))


def _scored(trials: Iterable[Trial], scorer: str) -> list[Trial]:
    return [t for t in trials if not math.isnan(t.scores.get(scorer, math.nan))]


class Experiment(list[Trial]):
    """The trials of an experiment, in input, variant, repeat order."""

    def __init__(self, trials: Iterable[Trial] = (), *, variants: Iterable[str] = ()) -> None:
        super().__init__(trials)
        self.variants = list(variants) or list(dict.fromkeys(t.variant for t in self))
        #: True when Stop or Ctrl-C ended the run early: the finished trials are all here.
        self.interrupted = False
        #: The run this one was compared with, if any (see :meth:`diff`).
        self.baseline: Experiment | None = None
        #: The Batch API's id when the experiment ran as a batch.
        self.batch_id: str | None = None
        #: Shown by the run that made it: not shown again as that cell's result.
        self.just_shown = False
        #: HTTP requests a live run sent (retries included) and the 429s among them.
        self.requests = self.rate_limited = 0

    @property
    def scorers(self) -> list[str]:
        return list(dict.fromkeys(name for t in self for name in t.scores))

    def to_records(self) -> list[dict[str, Any]]:
        return [trial.record() for trial in self]

    def to_dataframe(self) -> Any:
        """A pandas DataFrame, one row per trial (``pip install "chatnb[pandas]"``)."""
        import pandas

        return pandas.DataFrame(self.to_records())

    def summary(self) -> list[dict[str, Any]]:
        """Per variant: trials, failures, each scorer's mean, 95% CI and pass rate, mean time to
        first token and total time, and the cost."""
        rows = []
        for variant in self.variants:
            trials = [t for t in self if t.variant == variant]
            answered = [t for t in trials if t.error is None]
            row: dict[str, Any] = {"variant": variant, "trials": len(trials)}
            row["failed"] = len(trials) - len(answered)
            for scorer in self.scorers:
                row.update(_scorer_summary(scorer, answered))
            row["ttft_s"] = _mean(t.ttft_s for t in answered)
            row["total_s"] = _mean(t.total_s for t in answered)
            costs = [t.cost_usd for t in trials if t.cost_usd is not None]
            row["cost_usd"] = sum(costs) if costs else None
            rows.append(row)
        return rows

    def _repr_markdown_(self) -> str:
        return summary_table(self.summary(), self.scorers, interrupted=self.interrupted)

    def _ipython_display_(self) -> None:
        if self.just_shown:
            self.just_shown = False
            return
        from IPython.display import display

        text = self._repr_markdown_()
        display({"text/markdown": text, "text/plain": text}, raw=True)  # type: ignore[no-untyped-call]

    def plot(self, scorer: str | None = None, ax: Any = None) -> Any:
        """A bar per variant: the mean score with its 95% interval (matplotlib)."""
        import matplotlib.pyplot as plt

        scorer = scorer or (self.scorers[0] if self.scorers else None)
        if scorer is None:
            raise ValueError("plot() needs an experiment with scorers")
        rows = self.summary()
        if ax is None:
            _, ax = plt.subplots(figsize=(1.6 * len(rows) + 2, 3))
        means = [r[f"{scorer}"] for r in rows]
        errors = [0 if math.isnan(r[f"{scorer} ±"]) else r[f"{scorer} ±"] for r in rows]
        ax.bar([r["variant"] for r in rows], means, yerr=errors, capsize=4, color="#4c78a8")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(scorer)
        ax.set_title(f"{scorer}: mean and 95% interval")
        return ax

    def save(self, path: str | Path) -> Path:
        """Keep this run (JSON), to compare a later run with it: ``baseline=path``."""
        target = Path(path)
        document = {"variants": self.variants, "trials": [asdict(t) for t in self]}
        target.write_text(json.dumps(document, ensure_ascii=False, indent=1))
        return target

    @classmethod
    def load(cls, path: str | Path) -> Experiment:
        document = json.loads(Path(path).read_text())
        return cls((Trial(**t) for t in document["trials"]), variants=document["variants"])

    def diff(self, baseline: Experiment | str | Path) -> Diff:
        """What changed since ``baseline`` (an Experiment, or the path it was saved to)."""
        before = baseline if isinstance(baseline, Experiment) else Experiment.load(baseline)
        return Diff(before, self)


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def _scorer_summary(scorer: str, trials: list[Trial]) -> dict[str, float]:
    """Mean, CI half-width across repeats (across inputs with one repeat) and pass rate."""
    scored = _scored(trials, scorer)
    by_repeat: dict[int, list[float]] = defaultdict(list)
    for trial in scored:
        by_repeat[trial.repeat].append(trial.scores[scorer])
    if len(by_repeat) > 1:
        mean, half = interval([statistics.fmean(v) for v in by_repeat.values()])
        mean = statistics.fmean(t.scores[scorer] for t in scored)
    else:
        mean, half = interval([t.scores[scorer] for t in scored])
    passed = sum(t.scores[scorer] >= PASS_AT for t in scored)
    return {
        scorer: mean,
        f"{scorer} ±": half,
        f"{scorer} pass": passed / len(scored) if scored else math.nan,
    }


def _number(value: float | None, form: str) -> str:
    return "" if value is None or math.isnan(value) else format(value, form)


def summary_table(rows: list[dict[str, Any]], scorers: list[str], *, interrupted: bool) -> str:
    """The summary as a Markdown table."""
    head = ["variant", "trials", "failed"]
    for scorer in scorers:
        head += [f"{scorer} (95% CI)", "pass"]
    head += ["first token", "total", "cost"]
    # Names (a variant's, a scorer's) come from the caller or a file: plain text in the cells.
    lines = ["| " + " | ".join(escape_text(h, 80) for h in head) + " |"]
    lines.append("|" + "---|" * 3 + "---:|---:|" * len(scorers) + "---:|---:|---:|")
    for row in rows:
        cells = [escape_text(str(row["variant"]), 80), str(row["trials"]), str(row["failed"])]
        for scorer in scorers:
            spread = _number(row[f"{scorer} ±"], ".2f")
            mean = _number(row[scorer], ".2f")
            cells += [
                f"{mean} ± {spread}" if spread else mean,
                _number(row[f"{scorer} pass"], ".0%"),
            ]
        cells += [
            _number(row["ttft_s"], ".2f") + " s" if row["ttft_s"] is not None else "",
            _number(row["total_s"], ".2f") + " s" if row["total_s"] is not None else "",
            dollars(row["cost_usd"], markdown=True) if row["cost_usd"] is not None else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if interrupted:
        lines.append("\n*Interrupted: the trials above are those that finished.*")
    return "\n".join(lines)


@dataclass
class Diff:
    """A run against its baseline: per variant, each scorer's mean then and now; per trial,
    the scores that moved and the answers that changed."""

    before: Experiment
    after: Experiment

    def variants(self) -> list[dict[str, Any]]:
        then = {r["variant"]: r for r in self.before.summary()}
        rows = []
        for now in self.after.summary():
            old = then.get(now["variant"], {})
            row: dict[str, Any] = {"variant": now["variant"]}
            for scorer in self.after.scorers:
                row[f"{scorer} before"] = old.get(scorer, math.nan)
                row[f"{scorer} now"] = now[scorer]
                row[f"{scorer} change"] = now[scorer] - old.get(scorer, math.nan)
            rows.append(row)
        return rows

    def trials(self) -> list[dict[str, Any]]:
        """Trials whose answer changed or whose score moved, biggest moves first."""
        old = {t.key: t for t in self.before}
        changed = []
        for trial in self.after:
            previous = old.get(trial.key)
            if previous is None:
                continue
            moves = {
                name: value - previous.scores[name]
                for name, value in trial.scores.items()
                if name in previous.scores and value != previous.scores[name]
            }
            if moves or trial.answer != previous.answer:
                changed.append(
                    {
                        "input": trial.input,
                        "variant": trial.variant,
                        "repeat": trial.repeat,
                        "prompt": trial.prompt,
                        "answer changed": trial.answer != previous.answer,
                        **{f"{k} change": v for k, v in moves.items()},
                    }
                )
        return sorted(
            changed,
            key=lambda r: -max((abs(v) for k, v in r.items() if k.endswith(" change")), default=0),
        )

    def _repr_markdown_(self) -> str:
        lines = [
            "| variant | "
            + " | ".join(f"{escape_text(s, 80)}: before → now" for s in self.after.scorers)
            + " |"
        ]
        lines.append("|---|" + "---:|" * len(self.after.scorers))
        for row in self.variants():
            cells = [
                f"{_number(row[f'{s} before'], '.2f')} → {_number(row[f'{s} now'], '.2f')} "
                f"({_number(row[f'{s} change'], '+.2f')})"
                for s in self.after.scorers
            ]
            lines.append(f"| {escape_text(str(row['variant']), 80)} | " + " | ".join(cells) + " |")
        moved = self.trials()
        lines.append(f"\n{len(moved)} trials changed (answer or score).")
        return "\n".join(lines)
