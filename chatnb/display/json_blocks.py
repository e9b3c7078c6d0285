"""JSON shown as a reader wants it: partial documents parsed as far as they go, pretty-printed
in a code block that nothing inside it can close.

Partial JSON is parsed with jiter's partial mode (``pydantic_core.from_json(...,
allow_partial="trailing-strings")``): ``{"city": "Par`` reads as ``{"city": "Par"}``, so the
half-written document is never shown raw.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pydantic_core

__all__ = ["MISSING", "code_block", "partial_value", "pretty"]

#: What :func:`partial_value` returns when the text is not (the start of) JSON.
MISSING: Any = object()
_BACKTICKS = re.compile(r"`{3,}")


def partial_value(text: str) -> Any:
    """The value that ``text``, a JSON document cut anywhere, holds so far (or MISSING)."""
    if not text.strip():
        return MISSING
    try:
        return pydantic_core.from_json(text, allow_partial="trailing-strings")
    except ValueError:
        return MISSING


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def code_block(text: str, language: str = "") -> str:
    """``text`` in a fenced code block whose fence is longer than any backtick run inside."""
    longest = max((len(m.group()) for m in _BACKTICKS.finditer(text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{language}\n{text.rstrip(chr(10))}\n{fence}"
