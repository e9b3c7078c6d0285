"""Structured answers: ``response_format=City`` (a pydantic model) or a JSON format dict.

A pydantic model becomes the strict ``json_schema`` format exactly as the openai client's
``chat.completions.parse`` writes it (its own ``type_to_response_format_param``), and the
finished answer is validated into the model; a ``{"type": "json_object"}`` or
``{"type": "json_schema", ...}`` dict is sent as it is and the answer parsed as JSON. A
refusal, text that is not JSON, or JSON that does not validate raises
:class:`~chatnb.errors.StructuredOutputError` with the raw text (the answer itself stays in
the History, as any complete answer does).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import StructuredOutputError, shorten

__all__ = ["AnswerFormat"]


@dataclass(frozen=True)
class AnswerFormat:
    """The JSON an answer must be, as sent (``response_format``) and as parsed."""

    response_format: dict[str, Any]
    model: type[BaseModel] | None = None

    @classmethod
    def of(cls, value: Any) -> AnswerFormat | None:
        """The format ``response_format=`` asks for (``None``: plain text)."""
        if value is None:
            return None
        if isinstance(value, type) and issubclass(value, BaseModel):
            from .openai_private import response_format_of

            return cls(response_format_of(value), value)
        if isinstance(value, dict) and value.get("type") in ("json_object", "json_schema"):
            return cls(value)
        if isinstance(value, dict) and value.get("type") == "text":
            return None
        raise TypeError(
            "response_format= takes a pydantic model class, {'type': 'json_object'} or "
            f"{{'type': 'json_schema', 'json_schema': {{...}}}}, not {value!r}"
        )

    @property
    def name(self) -> str:
        if self.model is not None:
            return self.model.__name__
        return str((self.response_format.get("json_schema") or {}).get("name", "JSON"))

    def parse(self, text: str, refusal: str | None = None) -> Any:
        """The answer as the asked-for value: a model instance, or the parsed JSON."""
        if refusal:
            raise StructuredOutputError(
                f"The model refused to answer with {self.name}: {shorten(refusal)}",
                raw=text,
                refusal=refusal,
            )
        try:
            if self.model is not None:
                return self.model.model_validate_json(text)
            return json.loads(text)
        except ValidationError as invalid:
            if invalid.errors()[0]["type"] == "json_invalid":
                return self._not_json(text, invalid.errors()[0]["msg"])
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'the answer'}: {e['msg']}"
                for e in invalid.errors(include_url=False)[:5]
            )
            raise StructuredOutputError(
                f"The answer is not a valid {self.name} ({problems}). Its text is in .raw "
                f"and in bot.history: {shorten(text)}",
                raw=text,
            ) from None
        except ValueError as error:
            return self._not_json(text, str(error))

    @staticmethod
    def _not_json(text: str, why: str) -> Any:
        raise StructuredOutputError(
            f"The answer is not JSON ({why}). Its text is in .raw and in bot.history: "
            f"{shorten(text)}",
            raw=text,
        )
