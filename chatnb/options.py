"""Which request options a Chatbot accepts, and the error for one it does not.

Options are the Chat Completions request fields (:class:`~chatnb.schema.ChatCompletionRequest`)
plus the per-call options of the openai client's ``create()``. The fields the Chatbot sets
itself cannot be passed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from .schema import ChatCompletionRequest

__all__ = ["CLIENT_OPTIONS", "SET_BY_CHATBOT", "checked_options", "request_fields"]

#: Not request fields, but what the openai client's ``create()`` takes beside them.
CLIENT_OPTIONS = frozenset({"extra_body", "extra_headers", "extra_query", "timeout"})
#: Request fields that the Chatbot fills in itself.
SET_BY_CHATBOT = frozenset({"model", "messages", "stream", "stream_options"})


def checked_options(
    options: Mapping[str, Any], *, also_known: Iterable[str] = ()
) -> dict[str, Any]:
    """``options`` as a dict if every name is accepted; a ``TypeError`` that says why not.

    ``also_known`` are other names the caller accepts, offered as "did you mean" too.
    """
    known = set(ChatCompletionRequest.model_fields) | CLIENT_OPTIONS
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
