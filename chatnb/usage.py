"""What answers cost: tokens (the server's count next to chatnb's), time, and money."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .pricing import Price
from .schema import Usage

__all__ = ["ChatUsage", "TurnUsage", "dollars"]


def _count(value: Any) -> int | None:
    """A token count a server reported, if it is one (a vendor's null or text is not)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


@dataclass(frozen=True)
class TurnUsage:
    """One answer: tokens as the server reported them and as chatnb counted them, time to
    first token and in total (seconds), and the estimated cost where the price is known."""

    prompt_tokens: int | None
    completion_tokens: int | None
    local_prompt_tokens: int
    local_completion_tokens: int
    #: Of the completion tokens, those a thinking model spent reasoning (when reported).
    reasoning_tokens: int | None = None
    ttft_s: float | None = None
    total_s: float | None = None
    cost_usd: float | None = None
    #: Of the prompt tokens, those the provider's prompt cache served (when reported).
    cached_tokens: int | None = None
    #: What the price was, when not a list price (``"mock"``).
    price_label: str = ""
    #: Seconds from the first token to the last: what tokens/s is measured over.
    stream_s: float | None = None

    @classmethod
    def measured(
        cls,
        reported: Usage | None,
        *,
        local_prompt_tokens: int,
        local_completion_tokens: int,
        ttft_s: float | None,
        total_s: float,
        stream_s: float | None = None,
        price: Price | None,
    ) -> TurnUsage:
        """One answer's usage: what the server reported (its counts checked), chatnb's own
        counts, the times, and the cost at ``price``."""
        details = (reported.completion_tokens_details or {}) if reported else {}
        prompt_details = (reported.prompt_tokens_details or {}) if reported else {}
        return cls(
            prompt_tokens=reported.prompt_tokens if reported else None,
            completion_tokens=reported.completion_tokens if reported else None,
            reasoning_tokens=_count(details.get("reasoning_tokens")),
            cached_tokens=_count(prompt_details.get("cached_tokens")),
            local_prompt_tokens=local_prompt_tokens,
            local_completion_tokens=local_completion_tokens,
            ttft_s=ttft_s,
            total_s=total_s,
            stream_s=stream_s,
        ).priced(price)

    def priced(self, price: Price | None) -> TurnUsage:
        """This usage with its cost at ``price`` (unchanged when the price is unknown):
        cached prompt tokens and reasoning tokens each at their own rate."""
        if price is None:
            return self
        cost = price.cost(
            self.billed_prompt_tokens,
            self.billed_completion_tokens,
            self.cached_tokens or 0,
            self.reasoning_tokens or 0,
        )
        return replace(self, cost_usd=cost, price_label=price.label)

    def line(self) -> str:
        """One quiet line for under the answer: tokens, time, speed and cost."""
        cached = f" ({self.cached_tokens:,} cached)" if self.cached_tokens else ""
        tokens = f"{self.billed_prompt_tokens:,}{cached} + {self.billed_completion_tokens:,} tokens"
        parts = [tokens + _reasoning(self.reasoning_tokens)]
        if self.total_s is not None:
            parts.append(f"{self.total_s:.1f} s")
            streaming = self.streaming_s
            if streaming > 0 and self.billed_completion_tokens:
                parts.append(f"{self.billed_completion_tokens / streaming:,.0f} tokens/s")
        if self.cost_usd is not None:
            label = f" ({self.price_label})" if self.price_label else ""
            parts.append(dollars(self.cost_usd) + label)
        return "(" + ", ".join(parts) + ")"

    @property
    def streaming_s(self) -> float:
        """Seconds the tokens streamed over: first to last token when measured, else from the
        first token to the end (a usage made before ``stream_s`` was kept)."""
        if self.stream_s is not None:
            return self.stream_s
        return 0.0 if self.total_s is None else self.total_s - (self.ttft_s or 0.0)

    @property
    def billed_prompt_tokens(self) -> int:
        """The server's count where it gave one, else chatnb's."""
        return self.local_prompt_tokens if self.prompt_tokens is None else self.prompt_tokens

    @property
    def billed_completion_tokens(self) -> int:
        return (
            self.local_completion_tokens
            if self.completion_tokens is None
            else self.completion_tokens
        )


def _tokens(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _label(label: str) -> str:
    return f" ({label})" if label else ""


def _reasoning(tokens: int | None) -> str:
    return f" ({tokens:,} reasoning)" if tokens else ""


def dollars(value: float | None, *, markdown: bool = False) -> str:
    """``$0.000123``, or ``?`` when unknown. In Markdown the ``$`` is escaped: Jupyter's
    frontends take two dollar signs as the ends of a math span (a table of costs became one
    garbled equation)."""
    if value is None:
        return "?"
    return ("\\$" if markdown else "$") + f"{value:,.6f}"


@dataclass(repr=False)
class ChatUsage:
    """The last answer and running totals since the last reset; renders as a table."""

    last: TurnUsage | None = None
    answers: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    local_prompt_tokens: int = 0
    local_completion_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float | None = None

    def add(self, turn: TurnUsage) -> None:
        self.last = turn
        self.cached_tokens += turn.cached_tokens or 0
        self.answers += 1
        self.reasoning_tokens += turn.reasoning_tokens or 0
        self.prompt_tokens += turn.billed_prompt_tokens
        self.completion_tokens += turn.billed_completion_tokens
        self.local_prompt_tokens += turn.local_prompt_tokens
        self.local_completion_tokens += turn.local_completion_tokens
        if turn.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + turn.cost_usd

    def _rows(self, markdown: bool = False) -> list[tuple[str, str, str, str]]:
        rows = []
        if self.last is not None:
            last = self.last
            rows.append(
                (
                    "last answer",
                    f"{_tokens(last.prompt_tokens)} + {_tokens(last.completion_tokens)}"
                    + _reasoning(last.reasoning_tokens),
                    f"{last.local_prompt_tokens:,} + {last.local_completion_tokens:,}",
                    dollars(last.cost_usd, markdown=markdown) + _label(last.price_label),
                )
            )
        rows.append(
            (
                f"total ({self.answers:,} answer{'' if self.answers == 1 else 's'})",
                f"{self.prompt_tokens:,} + {self.completion_tokens:,}"
                + _reasoning(self.reasoning_tokens),
                f"{self.local_prompt_tokens:,} + {self.local_completion_tokens:,}",
                dollars(self.cost_usd, markdown=markdown)
                + _label(self.last.price_label if self.last else ""),
            )
        )
        return rows

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        return "\n".join(
            f"{name}: server {server} tokens, chatnb {local}, cost {cost}"
            for name, server, local, cost in self._rows()
        )

    def _repr_markdown_(self) -> str:
        lines = [
            "| | server: prompt + answer | chatnb: prompt + answer | estimated cost |",
            "|---|---:|---:|---:|",
        ]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in self._rows(markdown=True)]
        return "\n".join(lines)
