"""Estimated cost of tokens, for the models whose list prices are known.

Prices change; these are estimates for tuning prompts, not invoices. Pass your own
:class:`Price` where the table is out of date or the model is not in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .tokens import model_family

__all__ = ["PRICES", "Price", "price_for"]


@dataclass(frozen=True)
class Price:
    """US dollars per million input (prompt) and output (completion) tokens."""

    input_per_million: float
    output_per_million: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million
        ) / 1_000_000


# Source: OpenAI's pricing page (platform.openai.com/docs/pricing), standard tier, uncached
# input, read 2025. Versioned and fine-tuned names resolve to their family as in chatnb.tokens.
PRICES: dict[str, Price] = {
    "gpt-3.5-turbo": Price(0.50, 1.50),
    "gpt-4": Price(30.00, 60.00),
    "gpt-4-turbo": Price(10.00, 30.00),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "o1": Price(15.00, 60.00),
    "o1-mini": Price(1.10, 4.40),
    "o3": Price(2.00, 8.00),
    "o3-mini": Price(1.10, 4.40),
    "o4-mini": Price(1.10, 4.40),
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
}


def price_for(model: str) -> Price | None:
    """The list price of ``model``'s family, or ``None`` when it is not known."""
    family = model_family(model, PRICES)
    return PRICES[family] if family else None
