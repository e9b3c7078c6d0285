"""A model's profile: what chatnb knows of it, with the caller's overrides resolved once.

The context window and maximum output (:func:`~chatnb.tokens.model_limits`), the tokenizer's
encoding, and the price (:func:`~chatnb.pricing.price_for`) come from chatnb's tables unless
the caller named them. Switching models keeps the caller's overrides and looks up the rest
again.
"""

from __future__ import annotations

from dataclasses import dataclass

from .pricing import Price, price_for
from .tokens import DEFAULT_ENCODING, ModelLimits, known_encoding_name, model_limits

__all__ = ["ModelProfile", "Overrides"]


@dataclass(frozen=True)
class Overrides:
    """What the caller said about a model, where chatnb's tables are missing or wrong."""

    context_window: int | None = None
    max_output_tokens: int | None = None
    encoding: str | None = None
    price: Price | None = None


@dataclass(frozen=True)
class ModelProfile:
    """A model's name, limits, encoding and price (``None``: not known)."""

    name: str
    limits: ModelLimits
    encoding: str | None
    price: Price | None
    overrides: Overrides

    @classmethod
    def resolve(cls, name: str, overrides: Overrides | None = None) -> ModelProfile:
        given = overrides or Overrides()
        limits = model_limits(
            name, context_window=given.context_window, max_output_tokens=given.max_output_tokens
        )
        encoding = given.encoding
        if encoding is None and limits.known and known_encoding_name(name) is None:
            # The caller described a model chatnb does not know: counting it with the default
            # encoding is the plan, not a guess worth a warning (encoding= names another).
            encoding = DEFAULT_ENCODING
        return cls(name, limits, encoding, given.price or price_for(name), given)

    def switched(self, name: str) -> ModelProfile:
        """The profile of another model, with the same overrides."""
        return self if name == self.name else self.resolve(name, self.overrides)
