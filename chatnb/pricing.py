"""Estimated cost of tokens, for the models whose list prices are known.

Prices change; these are estimates for tuning prompts, not invoices. They are read from one
data file, ``chatnb/prices.json``, which says where and when they were read
(:data:`PRICES_READ`). Pass your own :class:`Price` (``Chatbot(..., price=Price(...))``) where
the table is out of date or the model is not in it. Prompt tokens the provider's cache served
(``cached_tokens``, reported by both APIs) are priced at the cached rate; reasoning tokens are
part of the completion tokens and billed at the output rate unless a price says otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .tokens import model_family

__all__ = ["MOCK_PRICE", "PRICES", "PRICES_READ", "Price", "price_for"]


@dataclass(frozen=True)
class Price:
    """US dollars per million input (prompt) and output (completion) tokens; cached input
    and reasoning at their own rates where given (``None``: the input / output rate).

    Attributes:
        input_per_million: Dollars per million prompt tokens.
        output_per_million: Dollars per million completion tokens.
        cached_input_per_million: Dollars per million cached prompt tokens (``None``: the
            input rate).
        reasoning_per_million: Dollars per million reasoning tokens (``None``: the output
            rate).
        label: What the price is when it is not a list price (``"mock"``).
    """

    input_per_million: float
    output_per_million: float
    cached_input_per_million: float | None = None
    reasoning_per_million: float | None = None
    label: str = ""

    def cost(
        self,
        prompt_tokens: int,
        completion_tokens: int,
        cached_tokens: int = 0,
        reasoning_tokens: int = 0,
    ) -> float:
        """The cost of one request; ``cached_tokens`` are of the prompt tokens, and
        ``reasoning_tokens`` of the completion tokens."""
        cached = min(max(cached_tokens, 0), prompt_tokens)
        reasoning = min(max(reasoning_tokens, 0), completion_tokens)
        cached_rate = self.input_per_million
        if self.cached_input_per_million is not None:
            cached_rate = self.cached_input_per_million
        reasoning_rate = self.output_per_million
        if self.reasoning_per_million is not None:
            reasoning_rate = self.reasoning_per_million
        return (
            (prompt_tokens - cached) * self.input_per_million
            + cached * cached_rate
            + (completion_tokens - reasoning) * self.output_per_million
            + reasoning * reasoning_rate
        ) / 1_000_000


#: What the embedded mock costs: nothing, and said so under each answer.
MOCK_PRICE = Price(0.0, 0.0, label="mock")


def _read() -> tuple[str, dict[str, Price]]:
    data: dict[str, Any] = json.loads(
        resources.files("chatnb").joinpath("prices.json").read_text(encoding="utf-8")
    )
    prices = {
        name: Price(row["input"], row["output"], row.get("cached_input"))
        for name, row in data["models"].items()
    }
    return str(data["read"]), prices


#: The date the list prices were read, and the prices by model family (versioned and
#: fine-tuned names resolve to their family as in :mod:`chatnb.tokens`).
PRICES_READ, PRICES = _read()


def price_for(model: str) -> Price | None:
    """The list price of ``model``'s family, or ``None`` when it is not known."""
    family = model_family(model, PRICES)
    return PRICES[family] if family else None
