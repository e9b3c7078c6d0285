"""What an experiment's checks found (:mod:`.checks`): an outcome per check and variant, and
the report that shows them as a verdict table in a notebook or raises them, in words, as an
:class:`~chatnb.errors.ExpectationError` under pytest."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ExpectationError
from ..markdown.safety import escape_text

__all__ = ["Outcome", "Report"]


@dataclass(frozen=True)
class Outcome:
    """One check on one variant: what was asked, whether it held, and the figures."""

    check: str
    passed: bool
    detail: str


class Report(list[Outcome]):
    """The outcomes of an experiment's checks; a verdict table in a notebook."""

    @property
    def passed(self) -> bool:
        return all(outcome.passed for outcome in self)

    def failed(self) -> list[Outcome]:
        return [outcome for outcome in self if not outcome.passed]

    def __str__(self) -> str:
        failed = self.failed()
        head = (
            f"All {len(self)} checks passed."
            if not failed
            else f"{len(failed)} of {len(self)} checks failed:"
        )
        return "\n".join([head, *(f"- {o.check}: {o.detail}" for o in failed)])

    def require(self) -> Report:
        """This report, or an :class:`~chatnb.errors.ExpectationError` (an AssertionError)
        listing the failed checks in words."""
        if not self.passed:
            raise ExpectationError(str(self), report=self)
        return self

    def _repr_markdown_(self) -> str:
        verdict = "**All checks passed**" if self.passed else f"**{len(self.failed())} failed**"
        lines = [f"{verdict} ({len(self)} checks)", "", "| | check | found |", "|---|---|---|"]
        for outcome in self:
            mark = "✅" if outcome.passed else "❌"
            check, detail = escape_text(outcome.check, 200), escape_text(outcome.detail, 400)
            lines.append(f"| {mark} | {check} | {detail} |")
        return "\n".join(lines)
