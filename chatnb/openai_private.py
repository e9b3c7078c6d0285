"""Every use of the installed openai library's private parts, in one place.

chatnb plugs into the openai client rather than around it, and for that it reads a few things
openai does not export publicly:

- the HTTP library openai sends through (``httpx2`` under openai 3.x, ``httpx`` under 2.x, the
  same interface): the in-process mock is a transport of that library, and a transport error
  is recognised as that library's, so chatnb installs next to either without upgrading it;
- a client's HTTP client, custom headers and query (to build the async twin of a sync client,
  to wrap its transport for record/replay, and to know the secrets it sends);
- whether an HTTP client is openai's default one (a twin can copy only that one);
- openai's strict JSON schema of a type (strict tools) and the ``response_format`` of a
  pydantic model (structured answers): the same conversion ``client.chat.completions.parse``
  makes, so a strict tool or a structured answer is exactly what openai's helpers would send.

If a future openai moves one of them, this module raises :class:`OpenAIInternalsError` naming
what is missing and the installed version, instead of an ``AttributeError`` somewhere else.
``tests/test_openai_private.py`` checks each against the installed openai (CI runs the suite
with openai 3.x and 2.x). Type checkers see ``httpx2``.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType
from typing import Any

from .errors import OpenAIInternalsError

__all__ = [
    "OpenAIInternalsError",
    "custom_headers",
    "custom_query",
    "http_client",
    "is_default_http_client",
    "library",
    "response_format_of",
    "strict_json_schema",
]


def _missing(what: str) -> OpenAIInternalsError:
    import openai

    return OpenAIInternalsError(
        f"chatnb needs openai's {what}, which the installed openai {openai.__version__} does not "
        "have. Install an openai version chatnb supports (2.x or 3.x): pip install -U chatnb openai"
    )


@cache
def library() -> ModuleType:
    """``httpx2`` under openai 3.x, ``httpx`` under openai 2.x."""
    from openai import _base_client

    module = getattr(_base_client, "httpx2", None) or getattr(_base_client, "httpx", None)
    if not isinstance(module, ModuleType):
        raise _missing("HTTP library (openai._base_client.httpx2 or .httpx)")
    return module


def http_client(client: Any) -> Any:
    """The HTTP client an openai client sends through (``httpx2.Client`` or ``AsyncClient``)."""
    http = getattr(client, "_client", None)
    if http is None:
        raise _missing("HTTP client of a client (client._client)")
    return http


def custom_headers(client: Any) -> dict[str, str]:
    """The headers a client adds to every request (``default_headers``)."""
    return dict(getattr(client, "_custom_headers", None) or {})


def custom_query(client: Any) -> dict[str, object]:
    """The query parameters a client adds to every request (``default_query``)."""
    return dict(getattr(client, "_custom_query", None) or {})


def is_default_http_client(http: Any) -> bool:
    """Whether ``http`` is the HTTP client openai built itself (not one the caller gave)."""
    from openai import _base_client

    kinds = tuple(
        kind
        for name in ("SyncHttpxClientWrapper", "AsyncHttpxClientWrapper")
        if isinstance(kind := getattr(_base_client, name, None), type)
    )
    if not kinds:
        raise _missing("default HTTP client classes (openai._base_client.*HttpxClientWrapper)")
    return isinstance(http, kinds)


def strict_json_schema(model: Any) -> dict[str, Any]:
    """openai's strict JSON schema of a pydantic model or ``TypeAdapter`` (strict tools)."""
    try:
        from openai.lib._pydantic import to_strict_json_schema
    except ImportError:
        raise _missing("strict JSON schema helper (openai.lib._pydantic)") from None
    return to_strict_json_schema(model)


def response_format_of(model: type[Any]) -> dict[str, Any]:
    """The strict ``json_schema`` response format of a pydantic model, as ``parse()`` sends it."""
    try:
        from openai.lib._parsing._completions import type_to_response_format_param
    except ImportError:
        raise _missing("response_format helper (openai.lib._parsing)") from None
    return dict(type_to_response_format_param(model))  # type: ignore[arg-type]
