"""The wire formats chatnb speaks, one module each, all read into the same typed events.

- :mod:`~chatnb.wire.chat_completions`: ``POST /v1/chat/completions`` (the default);
- :mod:`~chatnb.wire.responses`: ``POST /v1/responses`` (the request, both ways) and
  :mod:`~chatnb.wire.responses_events` (its stream, read).

The mock's encoders of the same formats sit beside them in :mod:`chatnb.mock`
(``mock/chat_completions.py``, ``mock/responses.py``). :func:`wire_for` picks one by name.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from ..events import StreamEvent
from ..schema import ChatCompletionResponse
from ..stream import ChoiceState
from .chat_completions import ChatCompletionsReader, ChatCompletionsWire
from .responses import ResponsesWire
from .responses_events import ResponsesReader

__all__ = [
    "API",
    "APIS",
    "ChatCompletionsReader",
    "ChatCompletionsWire",
    "Reader",
    "ResponsesReader",
    "ResponsesWire",
    "Wire",
    "checked_api",
    "wire_for",
]

#: The APIs a Chatbot speaks: ``api="chat"`` (Chat Completions) or ``api="responses"``.
API = Literal["chat", "responses"]
APIS: tuple[API, ...] = ("chat", "responses")


class Reader(Protocol):
    """What an exchange reads a stream with: frames in, events out, the reply at the end."""

    saw_end: bool

    @property
    def choices(self) -> dict[int, ChoiceState]: ...
    @property
    def done(self) -> bool: ...
    def text(self, index: int = 0) -> str: ...
    def frame(self, data: str) -> list[StreamEvent]: ...
    def whole(self, body: bytes) -> list[StreamEvent]: ...
    def result(self, *, allow_partial: bool = False) -> ChatCompletionResponse: ...


class Wire(Protocol):
    """One wire format as an exchange uses it."""

    name: str
    end_marker: str

    def reader(self) -> Reader: ...
    def request(self, request: dict[str, Any]) -> dict[str, Any]: ...
    def create(self, client: Any) -> Any: ...


def checked_api(api: str) -> API:
    """``api=`` as given, if it names an API chatnb speaks."""
    if api not in APIS:
        raise ValueError(
            f"api={api!r}: chatnb speaks 'chat' (Chat Completions, the default) and "
            "'responses' (the Responses API)"
        )
    return api


def wire_for(api: str) -> Wire:
    """The wire of ``api`` (``"chat"`` or ``"responses"``)."""
    return ResponsesWire() if checked_api(api) == "responses" else ChatCompletionsWire()
