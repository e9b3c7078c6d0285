"""The Chat Completions wire: ``POST /chat/completions``, ``chat.completion.chunk`` frames.

The reading itself is :mod:`chatnb.stream` (SSE, validated chunks, the accumulator); this
module is the wire as an exchange sees it: which call sends the request, what the request
leaves out, and a reader of its frames with the same surface as the Responses API's.
"""

from __future__ import annotations

from typing import Any

from ..errors import ArgumentError
from ..events import StreamEvent
from ..schema import ChatCompletionResponse
from ..stream import DONE, ChoiceState, StreamAccumulator, chunk_of, parse_chunk

__all__ = ["ChatCompletionsReader", "ChatCompletionsWire"]


class ChatCompletionsReader:
    """Frames of a Chat Completions stream -> events; ``[DONE]`` noted as its end."""

    def __init__(self) -> None:
        self.accumulator = StreamAccumulator()
        self.saw_end = False

    @property
    def choices(self) -> dict[int, ChoiceState]:
        return self.accumulator.choices

    @property
    def done(self) -> bool:
        return self.accumulator.done

    def text(self, index: int = 0) -> str:
        return self.accumulator.text(index)

    def frame(self, data: str) -> list[StreamEvent]:
        if data == DONE:
            self.saw_end = True
            return []
        return self.accumulator.add(parse_chunk(data))

    def whole(self, body: bytes) -> list[StreamEvent]:
        self.saw_end = True
        return self.accumulator.add(chunk_of(body))

    def result(self, *, allow_partial: bool = False) -> ChatCompletionResponse:
        return self.accumulator.result(allow_partial=allow_partial)


class ChatCompletionsWire:
    """How an exchange speaks Chat Completions."""

    name = "chat"
    #: What the note says when the stream ended without its end marker.
    end_marker = "[DONE]"

    @staticmethod
    def reader() -> ChatCompletionsReader:
        return ChatCompletionsReader()

    @staticmethod
    def request(request: dict[str, Any]) -> dict[str, Any]:
        """The request as sent: the reasoning items a Responses answer kept are left out. A
        built-in tool (the server's own, a Responses API feature) is refused in words."""
        builtin = [t.get("type") for t in request.get("tools") or () if t.get("type") != "function"]
        if builtin:
            raise ArgumentError(
                f"tools=[{{'type': {builtin[0]!r}}}] is a tool the server runs itself, which "
                'only the Responses API has: use Chatbot(..., api="responses").'
            )
        messages = request.get("messages") or []
        if any("reasoning_items" in m for m in messages):
            request = {**request, "messages": [_without_items(m) for m in messages]}
        return request

    @staticmethod
    def create(client: Any) -> Any:
        """The call that sends it, on a sync or an async openai client."""
        return client.chat.completions.with_streaming_response.create


def _without_items(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "reasoning_items"}
