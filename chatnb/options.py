"""Which request options a Chatbot accepts, and the error for one it does not.

Options are every field of the Chat Completions request as the installed openai library types
it (``openai.types.chat.completion_create_params``, so the set never falls behind the library),
the vendor fields :class:`~chatnb.schema.ChatCompletionRequest` adds (vLLM's ``top_k``, ...),
and the per-call options of the openai client's ``create()``. The fields the Chatbot sets
itself cannot be passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from .errors import OptionError
from .schema import ChatCompletionRequest

__all__ = [
    "CLIENT_OPTIONS",
    "SET_BY_CHATBOT",
    "checked_options",
    "known_options",
    "openai_request_fields",
    "request_fields",
    "unknown_option",
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
    """``options`` as a dict if every name is accepted; an :class:`OptionError` that says why
    not (one paragraph in a notebook, no traceback of chatnb's insides).

    ``also_known`` are other names the caller accepts, offered as "did you mean" too;
    ``accepted`` are more request fields taken as options (the Responses API's own).
    """
    if not options:
        return {}
    known = known_options() | frozenset(accepted)
    for name in options:
        if name in SET_BY_CHATBOT:
            raise OptionError(
                f"{name!r} is set by the Chatbot itself and cannot be passed here: "
                + _SET_BY_CHATBOT_INSTEAD[name]
            )
        if name not in known:
            raise OptionError(unknown_option(name, (known - SET_BY_CHATBOT) | set(also_known)))
    return dict(options)


_SET_BY_CHATBOT_INSTEAD = {
    "model": "set bot.model (the conversation is kept), or use bot.copy(model=...).",
    "messages": "the conversation is bot.history; ask adds the question to it.",
    "stream": "chatnb always streams the answer.",
    "stream_options": "chatnb always streams the answer, with its usage.",
}


def unknown_option(name: str, known: Iterable[str]) -> str:
    """What to say of an option ``name`` that is none of ``known``: the closest, if any."""
    import difflib  # only when a name is misspelt

    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return (
        f"{name!r} is not an option chatnb knows (neither a setting nor a Chat Completions "
        f"field).{hint} A field only your provider knows goes in extra_body={{{name!r}: ...}}."
    )


def request_fields(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options that are request fields (what a saved session keeps)."""
    return {name: value for name, value in options.items() if name not in CLIENT_OPTIONS}
