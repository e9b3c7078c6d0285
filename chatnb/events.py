"""Typed events: what one streamed chunk changed, channel by channel.

:meth:`chatnb.stream.StreamAccumulator.add` returns these, in the order the chunk caused them,
for every choice. A consumer (the Chatbot's views, a test, a notebook) reacts to the events it
knows and ignores the rest, so a new channel is a new event type and nothing else changes.

The shape follows openai-python's ``ChatCompletionStreamState.handle_chunk()``: one small
immutable object per event, each with a ``type`` literal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from .schema import FinishReason, Usage

__all__ = [
    "BuiltinToolStatus",
    "ChoiceFinished",
    "Citation",
    "ContentDelta",
    "ReasoningDelta",
    "RefusalDelta",
    "StreamEvent",
    "ToolCallArgumentsDelta",
    "ToolCallDone",
    "ToolCallResult",
    "ToolCallStarted",
    "UsageReported",
]


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """More of the answer's text."""

    type: ClassVar[Literal["content.delta"]] = "content.delta"
    choice: int
    text: str


@dataclass(frozen=True, slots=True)
class RefusalDelta:
    """More of a refusal (the model declined, in its own words)."""

    type: ClassVar[Literal["refusal.delta"]] = "refusal.delta"
    choice: int
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """More of a thinking model's reasoning; ``field`` names the dialect that carried it:
    ``delta.reasoning_content``, ``delta.reasoning``, or a leading ``<think>`` in the content
    (Chat Completions); a reasoning ``summary`` or the raw ``reasoning_text`` (Responses API)."""

    type: ClassVar[Literal["reasoning.delta"]] = "reasoning.delta"
    choice: int
    text: str
    field: Literal["reasoning_content", "reasoning", "think", "summary", "reasoning_text"]


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """The model began tool call ``index`` (its id and, usually, its function name)."""

    type: ClassVar[Literal["tool_call.started"]] = "tool_call.started"
    choice: int
    index: int
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ToolCallArgumentsDelta:
    """More of the JSON arguments of tool call ``index``."""

    type: ClassVar[Literal["tool_call.arguments.delta"]] = "tool_call.arguments.delta"
    choice: int
    index: int
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDone:
    """Tool call ``index`` is complete: the next one started, or the choice finished."""

    type: ClassVar[Literal["tool_call.done"]] = "tool_call.done"
    choice: int
    index: int
    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolCallResult:
    """What running tool call ``index`` gave back (sent by the tool loop, not the stream)."""

    type: ClassVar[Literal["tool_call.result"]] = "tool_call.result"
    choice: int
    index: int
    id: str
    name: str
    content: str
    ok: bool
    duration_s: float


@dataclass(frozen=True, slots=True)
class Citation:
    """A source the answer cites (Responses API ``url_citation``): ``text[start:end]`` of the
    answer so far rests on ``url``."""

    type: ClassVar[Literal["citation"]] = "citation"
    choice: int
    url: str
    title: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class BuiltinToolStatus:
    """A tool the server runs itself (web search, file search, code interpreter, MCP, image
    generation: Responses API) changed status; chatnb only shows it, it runs nothing.
    ``detail`` is what the call is about when the server says (a query, a server label)."""

    type: ClassVar[Literal["builtin_tool.status"]] = "builtin_tool.status"
    choice: int
    id: str
    kind: str
    status: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ChoiceFinished:
    """The choice has its ``finish_reason``: nothing more will come for it."""

    type: ClassVar[Literal["choice.finished"]] = "choice.finished"
    choice: int
    finish_reason: FinishReason


@dataclass(frozen=True, slots=True)
class UsageReported:
    """The server reported the token usage of the whole request."""

    type: ClassVar[Literal["usage"]] = "usage"
    usage: Usage


StreamEvent = (
    ContentDelta
    | RefusalDelta
    | ReasoningDelta
    | ToolCallStarted
    | ToolCallArgumentsDelta
    | ToolCallDone
    | ToolCallResult
    | Citation
    | BuiltinToolStatus
    | ChoiceFinished
    | UsageReported
)
