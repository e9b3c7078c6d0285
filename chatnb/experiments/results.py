"""What an experiment found: one trial per input x variant x repeat, and what they add up to.

:class:`Experiment` is a list of :class:`Trial` with the views people want: ``to_records()`` /
``to_dataframe()`` (one row per trial), ``summary()`` (per variant: each scorer's mean with a
95% confidence interval over inputs, its pass rate with a Wilson interval, how stable repeats
are, failures, cost and latency: :mod:`.summary`), ``paired()`` / ``verdicts()`` (one variant
against another over the inputs both have: :mod:`.stats`), a Markdown table in a notebook,
``plot()``, ``save()`` / ``load()``, and ``diff(baseline)``.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .stats import Paired, paired
from .summary import by_input, scorer_summary, summary_table, verdicts

if TYPE_CHECKING:
    from .checks import Check, Report
    from .diff import Diff

__all__ = ["Experiment", "Trial"]

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
        #: The execution count of the cell whose run showed it: not shown twice in that cell.
        self.shown_in: int | None = None
        #: HTTP requests a live run sent (retries included) and the 429s among them.
        self.requests = self.rate_limited = 0
        #: Each variant's prompt version: model, system, template, options, tools and their
        #: content ``hash`` (:mod:`.versions`).
        self.prompts: dict[str, dict[str, Any]] = {}

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
        """Per variant: trials, failures, each scorer's mean with its 95% interval over inputs,
        pass rate with its Wilson interval, stability across repeats, how often the scorer
        itself failed; mean time to first token and total time, and the cost."""
        rows = []
        for variant in self.variants:
            trials = [t for t in self if t.variant == variant]
            answered = [t for t in trials if t.error is None]
            row: dict[str, Any] = {"variant": variant, "trials": len(trials)}
            row["failed"] = len(trials) - len(answered)
            for scorer in self.scorers:
                row.update(scorer_summary(scorer, answered))
            row["ttft_s"] = _mean(t.ttft_s for t in answered)
            row["total_s"] = _mean(t.total_s for t in answered)
            costs = [t.cost_usd for t in trials if t.cost_usd is not None]
            row["cost_usd"] = sum(costs) if costs else None
            rows.append(row)
        return rows

    def paired(self, a: str, b: str, scorer: str | None = None) -> Paired:
        """Variant ``b`` against variant ``a`` on ``scorer`` (default: the first), over the
        inputs both scored: the mean difference, its interval, ``.verdict()``."""
        name = self._scorer(scorer)
        for variant in (a, b):
            if variant not in self.variants:
                raise ValueError(f"No variant is named {variant!r}; the variants: {self.variants}")
        before = by_input([t for t in self if t.variant == a], name)
        after = by_input([t for t in self if t.variant == b], name)
        return paired(a, b, before, after)

    def verdicts(self, against: str | None = None) -> list[tuple[str, Paired]]:
        """Every other variant against ``against`` (default: the first variant), per scorer:
        ``(scorer, Paired)``; ``Paired.verdict()`` says it in words."""
        base = against if against is not None else (self.variants[0] if self.variants else "")
        return verdicts(self, self.variants, self.scorers, base)

    def check(self, *checks: Check) -> Report:
        """Run ``checks`` (:mod:`.checks`) on these results: a verdict table in a notebook;
        ``.require()`` raises :class:`~chatnb.errors.ExpectationError` when one failed."""
        from .checks import run_checks

        return run_checks(self, checks)

    def _scorer(self, scorer: str | None) -> str:
        """``scorer`` checked against the names this experiment has (default: the first)."""
        if scorer is None:
            if not self.scorers:
                raise ValueError("This experiment has no scorers: pass scorers=[...] to it.")
            return self.scorers[0]
        if scorer not in self.scorers:
            known = ", ".join(repr(s) for s in self.scorers) or "none"
            raise ValueError(
                f"No scorer is named {scorer!r}. This experiment's scorers: {known}. A built-in "
                "scorer is named after its arguments (contains('Paris') is \"contains 'Paris'\"); "
                "a function by its name; a lambda as \"score N\" (N its place in scorers)."
            )
        return scorer

    def _repr_markdown_(self) -> str:
        repeated = any(t.repeat > 0 for t in self)
        return summary_table(
            self.summary(),
            self.scorers,
            interrupted=self.interrupted,
            repeated=repeated,
            compared=self.verdicts() if len(self.variants) > 1 else (),
        )

    def _ipython_display_(self) -> None:
        from IPython import get_ipython
        from IPython.display import display

        shell = get_ipython()  # type: ignore[no-untyped-call]
        count = getattr(shell, "execution_count", None)
        if self.shown_in is not None and count == self.shown_in:
            return  # `await experiment(...)` as a cell's last line: its run showed it already
        text = self._repr_markdown_()
        display({"text/markdown": text, "text/plain": text}, raw=True)  # type: ignore[no-untyped-call]

    def __repr__(self) -> str:
        return f"<Experiment: {len(self)} trials, variants {self.variants}>"

    def plot(self, scorer: str | None = None, ax: Any = None) -> Any:
        """A bar per variant: the mean score with its 95% interval (matplotlib)."""
        name = self._scorer(scorer)  # before any figure is drawn
        import matplotlib.pyplot as plt

        rows = self.summary()
        if ax is None:
            _, ax = plt.subplots(figsize=(1.6 * len(rows) + 2, 3))
        means = [r[name] for r in rows]
        errors = [0 if math.isnan(r[f"{name} ±"]) else r[f"{name} ±"] for r in rows]
        ax.bar([r["variant"] for r in rows], means, yerr=errors, capsize=4, color="#4c78a8")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(name)
        ax.set_title(f"{name}: mean and 95% interval over inputs")
        return ax

    def save(self, path: str | Path) -> Path:
        """Keep this run (JSON), to compare a later run with it: ``baseline=path``."""
        target = Path(path)
        document = {
            "variants": self.variants,
            "prompts": self.prompts,
            "trials": [asdict(t) for t in self],
        }
        target.write_text(json.dumps(document, ensure_ascii=False, indent=1))
        return target

    @classmethod
    def load(cls, path: str | Path) -> Experiment:
        document = json.loads(Path(path).read_text())
        found = cls((Trial(**t) for t in document["trials"]), variants=document["variants"])
        found.prompts = document.get("prompts", {})  # files saved before versions: none
        return found

    def diff(self, baseline: Experiment | str | Path) -> Diff:
        """What changed since ``baseline`` (an Experiment, or the path it was saved to)."""
        from .diff import Diff

        before = baseline if isinstance(baseline, Experiment) else Experiment.load(baseline)
        return Diff(before, self)


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None
