"""One trial of an experiment: which input, variant and repeat; what came back; its scores."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Trial"]


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
