"""Which request options a Chatbot accepts, and the error for one it does not.

Options are every field of the Chat Completions request as the installed openai library types
it (``openai.types.chat.completion_create_params``, so the set never falls behind the library),
the vendor fields :class:`~chatnb.schema.ChatCompletionRequest` adds (vLLM's ``top_k``, ...),
and the per-call options of the openai client's ``create()``. The fields the Chatbot sets
itself cannot be passed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from .schema import ChatCompletionRequest

__all__ = [
    "CLIENT_OPTIONS",
    "SET_BY_CHATBOT",
    "checked_options",
    "known_options",
    "openai_request_fields",
    "request_fields",
]

#: Not request fields, but what the openai client's ``create()`` takes beside them.
CLIENT_OPTIONS = frozenset({"extra_body", "extra_headers", "extra_query", "timeout"})
#: Request fields that the Chatbot fills in itself.
SET_BY_CHATBOT = frozenset({"model", "messages", "stream", "stream_options"})


@cache
def openai_request_fields() -> frozenset[str]:
    """The Chat Completions request fields of the installed openai library."""
    from openai.types.chat import completion_create_params

    return frozenset(completion_create_params.CompletionCreateParamsBase.__annotations__)


def known_options() -> frozenset[str]:
    """Every option name a Chatbot accepts (the ones it sets itself included)."""
    schema = frozenset(ChatCompletionRequest.model_fields)
    return openai_request_fields() | schema | CLIENT_OPTIONS


def checked_options(
    options: Mapping[str, Any],
    *,
    also_known: Iterable[str] = (),
    accepted: Iterable[str] = (),
) -> dict[str, Any]:
    """``options`` as a dict if every name is accepted; a ``TypeError`` that says why not.

    ``also_known`` are other names the caller accepts, offered as "did you mean" too;
    ``accepted`` are more request fields taken as options (the Responses API's own).
    """
    if not options:
        return {}
    known = known_options() | frozenset(accepted)
    for name in options:
        if name in SET_BY_CHATBOT:
            raise TypeError(f"{name!r} is set by the Chatbot itself and cannot be passed here")
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known | set(also_known)), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise TypeError(
                f"{name!r} is not a Chat Completions option.{hint} "
                "Vendor-specific fields go in extra_body={...}."
            )
    return dict(options)


def request_fields(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options that are request fields (what a saved session keeps)."""
    return {name: value for name, value in options.items() if name not in CLIENT_OPTIONS}
