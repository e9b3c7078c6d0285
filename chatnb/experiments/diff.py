"""A run against its baseline: what changed in each variant's prompt, whether the scores
moved more than chance would (paired over the inputs both runs have), and which answers
changed.

``results.diff(baseline)`` in a notebook shows, per variant, the prompt diff (when its version
hash changed), each scorer's mean then and now with a paired verdict, and the answers that
changed most, before and after.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..safety import escape_text
from .results import Experiment
from .stats import Paired, paired
from .summary import by_input
from .versions import prompt_diff

__all__ = ["Diff"]

#: Changed answers shown under the table, biggest score moves first.
SHOWN_ANSWERS = 10


def _number(value: float, form: str) -> str:
    return "" if math.isnan(value) else format(value, form)


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
