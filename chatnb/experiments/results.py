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
import re
import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..markdown.safety import escape_text
from .report import Outcome, Report
from .stats import Paired, paired
from .summary import by_input, scorer_summary, summary_table, verdicts
from .trial import Trial
from .versions import prompt_diff

__all__ = ["Diff", "Experiment", "Trial"]


class Experiment(list[Trial]):
    """The trials of an experiment, in input, variant, repeat order.

    Args:
        trials: The trials, each an input x variant x repeat with its answer and scores.
        variants: The variants' names, in their order (default: as the trials name them).
    """

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
        inputs both scored: the mean difference, its interval, ``.verdict()``.

        Args:
            a: The variant compared against (its name).
            b: The variant compared (its name).
            scorer: The scorer's name (default: the first scorer).
        """
        name = self._scorer(scorer)
        for variant in (a, b):
            if variant not in self.variants:
                raise ValueError(f"No variant is named {variant!r}; the variants: {self.variants}")
        before = by_input([t for t in self if t.variant == a], name)
        after = by_input([t for t in self if t.variant == b], name)
        return paired(a, b, before, after)

    def verdicts(self, against: str | None = None) -> list[tuple[str, Paired]]:
        """Every other variant against ``against`` (default: the first variant), per scorer:
        ``(scorer, Paired)``; ``Paired.verdict()`` says it in words.

        Args:
            against: The variant every other is compared with (its name).
        """
        base = against if against is not None else (self.variants[0] if self.variants else "")
        return verdicts(self, self.variants, self.scorers, base)

    def check(self, *checks: Callable[[Experiment], list[Outcome]]) -> Report:
        """Run ``checks`` on these results: a verdict table in a notebook;
        ``.require()`` raises :class:`~chatnb.errors.ExpectationError` when one failed.

        Args:
            *checks: Checks made by :mod:`chatnb.experiments.checks` (pass rate, not worse,
                cost, latency), or functions of the Experiment that return outcomes.
        """
        return Report(outcome for check in checks for outcome in check(self))

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
                'a function by its name; a lambda as "score N" (N its place in scorers).'
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

        shell = get_ipython()
        count = getattr(shell, "execution_count", None)
        if self.shown_in is not None and count == self.shown_in:
            return  # `await experiment(...)` as a cell's last line: its run showed it already
        text = self._repr_markdown_()
        display({"text/markdown": text, "text/plain": text}, raw=True)  # type: ignore[no-untyped-call]

    def __repr__(self) -> str:
        return f"<Experiment: {len(self)} trials, variants {self.variants}>"

    def plot(self, scorer: str | None = None, ax: Any = None) -> Any:
        """A bar per variant: the mean score with its 95% interval (matplotlib).

        Args:
            scorer: The scorer's name (default: the first scorer).
            ax: A matplotlib ``Axes`` to draw on (default: a new figure).
        """
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
        """Keep this run (JSON), to compare a later run with it: ``baseline=path``.

        Args:
            path: The file to write.
        """
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
        """A run kept by :meth:`save`.

        Args:
            path: The file :meth:`save` wrote.
        """
        document = json.loads(Path(path).read_text())
        found = cls((Trial(**t) for t in document["trials"]), variants=document["variants"])
        found.prompts = document.get("prompts", {})  # files saved before versions: none
        return found

    def diff(self, baseline: Experiment | str | Path) -> Diff:
        """What changed since ``baseline``.

        Args:
            baseline: An earlier Experiment, or the path it was saved to.
        """
        before = baseline if isinstance(baseline, Experiment) else Experiment.load(baseline)
        return Diff(before, self)


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def _number(value: float, form: str) -> str:
    return "" if math.isnan(value) else format(value, form)


#: Changed answers shown under the table, biggest score moves first.
SHOWN_ANSWERS = 10


def _fenced(text: str, language: str) -> str:
    """``text`` in a fence that nothing inside can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


@dataclass
class Diff:
    """A run against its baseline: per variant, each scorer's mean then and now and the paired
    verdict; the prompt versions' diffs; per trial, the scores that moved and the answers that
    changed."""

    before: Experiment
    after: Experiment

    def paired(self, variant: str, scorer: str) -> Paired:
        """This run's ``variant`` against the baseline's, over the inputs both scored."""
        then = by_input([t for t in self.before if t.variant == variant], scorer)
        now = by_input([t for t in self.after if t.variant == variant], scorer)
        return paired("the baseline", "this run", then, now)

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
                row[f"{scorer} verdict"] = self.paired(now["variant"], scorer).verdict()
            rows.append(row)
        return rows

    def prompts(self) -> dict[str, str]:
        """Per variant whose prompt version changed: the unified diff of the two versions."""
        found = {}
        for variant, version in self.after.prompts.items():
            text = prompt_diff(self.before.prompts.get(variant), version)
            if text:
                found[variant] = text
        return found

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
                        "before": previous.answer,
                        "now": trial.answer,
                        **{f"{k} change": v for k, v in moves.items()},
                    }
                )
        return sorted(
            changed,
            key=lambda r: -max((abs(v) for k, v in r.items() if k.endswith(" change")), default=0),
        )

    def _scores_table(self) -> list[str]:
        scorers = self.after.scorers
        head = " | ".join(f"{escape_text(s, 80)}: before → now" for s in scorers)
        lines = [f"| variant | {head} | verdict |", "|---|" + "---:|" * len(scorers) + "---|"]
        for row in self.variants():
            cells = [
                f"{_number(row[f'{s} before'], '.2f')} → {_number(row[f'{s} now'], '.2f')} "
                f"({_number(row[f'{s} change'], '+.2f')})"
                for s in scorers
            ]
            said = "; ".join(escape_text(row[f"{s} verdict"], 300) for s in scorers)
            name = escape_text(str(row["variant"]), 80)
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {said} |")
        return lines

    def _answers_table(self, moved: list[dict[str, Any]]) -> list[str]:
        lines = ["| input | variant | score change | before | now |", "|---:|---|---|---|---|"]
        for row in moved[:SHOWN_ANSWERS]:
            changes = ", ".join(
                f"{escape_text(k[: -len(' change')], 60)} {v:+.2f}"
                for k, v in row.items()
                if k.endswith(" change") and isinstance(v, float)
            )
            lines.append(
                f"| {row['input']} | {escape_text(row['variant'], 60)} | {changes} "
                f"| {escape_text(row['before'], 100)} | {escape_text(row['now'], 100)} |"
            )
        return lines

    def _repr_markdown_(self) -> str:
        parts = []
        for variant, text in self.prompts().items():
            parts.append(f"**Prompt of {escape_text(variant, 80)}**\n\n{_fenced(text, 'diff')}")
        parts.append("\n".join(self._scores_table()))
        moved = self.trials()
        summary = f"{len(moved)} trials changed (answer or score)."
        if moved:
            summary += f" The {min(len(moved), SHOWN_ANSWERS)} that moved most:\n\n"
            summary += "\n".join(self._answers_table(moved))
        parts.append(summary)
        return "\n\n".join(parts)
