"""The Responses API's stream, read: ``response.*`` events -> chatnb's typed events.

:class:`ResponsesReader` takes the ``data:`` of each server-sent event (a JSON object whose
``type`` says what it is, as openai-python's ``openai.types.responses`` types them) and returns
the :mod:`~chatnb.events` it caused, folding the answer into a
:class:`~chatnb.stream.ChoiceState` so that what the rest of chatnb reads (the text, the
reasoning, the tool calls, the finish reason, the usage) is the same as for Chat Completions.

What only this API has becomes its own events: reasoning *summaries* are reasoning
(``ReasoningDelta(field="summary")``), URL citations are :class:`~chatnb.events.Citation`, the
tools the server runs itself (web search, file search, code interpreter, MCP, image
generation) are :class:`~chatnb.events.BuiltinToolStatus`. Every event type openai defines is
either in :data:`HANDLED` or in :data:`IGNORED` (with why), checked by a test against the
installed openai; a type neither lists (a vendor's own) is ignored too, so a new server event
never breaks an answer.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from ..errors import ChunkValidationError, StreamErrorFrame, shorten
from ..events import (
    BuiltinToolStatus,
    ChoiceFinished,
    Citation,
    ContentDelta,
    ReasoningDelta,
    RefusalDelta,
    StreamEvent,
    ToolCallArgumentsDelta,
    ToolCallStarted,
    UsageReported,
)
from ..schema import ChatCompletionResponse, Choice, FinishReason, Usage
from ..stream import DONE, ChoiceState, ToolCallState

__all__ = ["BUILTIN_TOOL_ITEMS", "HANDLED", "IGNORED", "ResponsesReader", "usage_of"]

#: Output items of tools the server runs itself, shown with their status.
BUILTIN_TOOL_ITEMS = frozenset(
    {
        "web_search_call",
        "file_search_call",
        "code_interpreter_call",
        "mcp_call",
        "mcp_list_tools",
        "mcp_approval_request",
        "image_generation_call",
        "computer_call",
        "local_shell_call",
        "shell_call",
        "apply_patch_call",
        "custom_tool_call",
    }
)
_STATUS_EVENTS = {
    "web_search_call": ("in_progress", "searching", "completed"),
    "file_search_call": ("in_progress", "searching", "completed"),
    "code_interpreter_call": ("in_progress", "interpreting", "completed"),
    "mcp_call": ("in_progress", "completed", "failed"),
    "mcp_list_tools": ("in_progress", "completed", "failed"),
    "image_generation_call": ("in_progress", "generating", "completed"),
}
_STATUS_TYPES = {
    f"response.{kind}.{status}": (kind, status)
    for kind, statuses in _STATUS_EVENTS.items()
    for status in statuses
}

#: The event types that change what is shown or kept.
HANDLED = frozenset(
    {
        "response.created",
        "response.in_progress",
        "response.queued",
        "response.output_item.added",
        "response.output_item.done",
        "response.output_text.delta",
        "response.refusal.delta",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_text.delta",
        "response.function_call_arguments.delta",
        "response.output_text.annotation.added",
        "response.completed",
        "response.incomplete",
        "response.failed",
        "error",
        *_STATUS_TYPES,
    }
)
#: The event types read past on purpose, and why.
IGNORED: dict[str, str] = {
    # The ".done" of a delta repeats, whole, what its deltas already said.
    **dict.fromkeys(
        (
            "response.output_text.done",
            "response.refusal.done",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
            "response.reasoning_text.done",
            "response.function_call_arguments.done",
            "response.content_part.added",
            "response.content_part.done",
        ),
        "repeats what the deltas and output items say",
    ),
    # The code, MCP arguments or custom input a built-in tool runs: its status is shown, what
    # it runs is the server's business (and arrives whole in output_item.done).
    **dict.fromkeys(
        (
            "response.code_interpreter_call_code.delta",
            "response.code_interpreter_call_code.done",
            "response.mcp_call_arguments.delta",
            "response.mcp_call_arguments.done",
            "response.custom_tool_call_input.delta",
            "response.custom_tool_call_input.done",
            "response.shell_call_command.added",
            "response.shell_call_command.delta",
            "response.shell_call_command.done",
            "response.shell_call_output_content.delta",
            "response.shell_call_output_content.done",
        ),
        "the input or output of a tool the server runs; its status is shown",
    ),
    "response.image_generation_call.partial_image": "a preview image; chatnb shows text",
    "response.audio.delta": "audio output; chatnb shows text",
    "response.audio.done": "audio output; chatnb shows text",
    "response.audio.transcript.delta": "audio output; chatnb shows text",
    "response.audio.transcript.done": "audio output; chatnb shows text",
    "response.compaction.compacting": "the server compacting its stored context; no output",
    # vLLM's own (not in openai's types): the reasoning_text deltas carry the text.
    "response.reasoning_part.added": "vLLM: opens a reasoning part; the deltas carry the text",
    "response.reasoning_part.done": "vLLM: closes a reasoning part; the deltas carry the text",
}
_INCOMPLETE: dict[str, FinishReason] = {
    "max_output_tokens": "length",
    "content_filter": "content_filter",
}


def usage_of(usage: dict[str, Any]) -> Usage:
    """The Responses API's usage as Chat Completions names it (input -> prompt, output ->
    completion), details kept: ``cached_tokens`` and ``reasoning_tokens`` read the same."""
    prompt, completion = _int(usage, "input_tokens"), _int(usage, "output_tokens")
    total = usage.get("total_tokens")
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total if isinstance(total, int) else prompt + completion,
        prompt_tokens_details=usage.get("input_tokens_details") or None,
        completion_tokens_details=usage.get("output_tokens_details") or None,
    )


def _int(fields: dict[str, Any], name: str) -> int:
    value = fields.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ChunkValidationError(
            f"The server sent a usage whose {name} is {value!r}, not a count of tokens.",
            raw=shorten(json.dumps(fields)),
        )
    return value


def _text(event: dict[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str):
        raise ChunkValidationError(
            f"The server sent a {event.get('type')} event whose {name} is {value!r}, not text."
            f"\nRaw frame: {shorten(json.dumps(event))}",
            raw=json.dumps(event),
        )
    return value


def _object(event: dict[str, Any], name: str) -> dict[str, Any]:
    value = event.get(name)
    if not isinstance(value, dict):
        raise ChunkValidationError(
            f"The server sent a {event.get('type')} event without its {name} object."
            f"\nRaw frame: {shorten(json.dumps(event))}",
            raw=json.dumps(event),
        )
    return value


def parse_event(data: str) -> dict[str, Any]:
    """One ``data:`` payload of a Responses stream: a JSON object with a text ``type``."""
    try:
        event = json.loads(data)
    except (ValueError, RecursionError) as bad:
        raise ChunkValidationError(
            f"The server sent a frame that is not JSON ({bad}).\nRaw frame: {shorten(data)}",
            raw=data,
        ) from None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        if isinstance(event, dict) and isinstance(event.get("error"), dict):
            event = {"type": "error", **event["error"]}  # a Chat Completions-style error frame
        else:
            raise ChunkValidationError(
                f"The server sent a frame that is not a Responses API event (no type).\n"
                f"Raw frame: {shorten(data)}",
                raw=data,
            )
    return event


class ResponsesReader:
    """Folds a Responses API stream into one choice's reply (a pure state machine)."""

    def __init__(self) -> None:
        self.state = ChoiceState(0)
        self.state.think = None  # this API never puts reasoning in <think> tags
        self.choices: dict[int, ChoiceState] = {0: self.state}
        self.usage: Usage | None = None
        self.id: str | None = None
        self.model: str | None = None
        self.created: int = 0
        #: The reasoning items to send back with the next request (encrypted, or stored).
        self.reasoning_items: list[dict[str, Any]] = []
        self.citations: list[Citation] = []
        self.saw_end = False
        self._calls: dict[int, int] = {}  # output_index -> tool call number
        self._summary_parts = 0

    @property
    def done(self) -> bool:
        return self.state.finish_reason is not None

    def text(self, index: int = 0) -> str:
        return self.state.text if index == 0 else ""

    def frame(self, data: str) -> list[StreamEvent]:
        """Take one ``data:`` payload; return the events it caused, in order."""
        if data == DONE:  # not part of this API, but some servers end with it anyway
            return []
        return self.event(parse_event(data))

    def event(self, event: dict[str, Any]) -> list[StreamEvent]:
        kind: str = event["type"]
        if kind in _STATUS_TYPES:
            tool, status = _STATUS_TYPES[kind]
            item_id = str(event.get("item_id", ""))
            return [BuiltinToolStatus(0, item_id, tool.removesuffix("_call"), status)]
        handler = _HANDLERS.get(kind)
        return handler(self, event) if handler is not None else []

    # -- the response's own events ----------------------------------------------------------

    def _started(self, event: dict[str, Any]) -> list[StreamEvent]:
        response = _object(event, "response")
        self.id = str(response.get("id", self.id or ""))
        self.model = str(response.get("model", self.model or ""))
        created = response.get("created_at")
        self.created = int(created) if isinstance(created, int | float) else self.created
        return []

    def _ended(self, event: dict[str, Any]) -> list[StreamEvent]:
        response = _object(event, "response")
        self._started(event)
        self.saw_end = True
        events: list[StreamEvent] = []
        usage = response.get("usage")
        if isinstance(usage, dict):
            self.usage = usage_of(usage)
            events.append(UsageReported(self.usage))
        if response.get("store") is not True:  # not kept by the server: an id alone is void
            self.reasoning_items = [i for i in self.reasoning_items if "encrypted_content" in i]
        for number, call in sorted(self.state.tool_calls.items()):
            if not call.done:
                events.append(call.done_event(0, number))
        self.state.finish_reason = self._finish_reason(event["type"], response)
        events.append(ChoiceFinished(0, self.state.finish_reason))
        return events

    def _finish_reason(self, kind: str, response: dict[str, Any]) -> FinishReason:
        if kind == "response.incomplete":
            details = response.get("incomplete_details") or {}
            return _INCOMPLETE.get(str(details.get("reason")), "length")
        return "tool_calls" if self.state.tool_calls else "stop"

    def _failed(self, event: dict[str, Any]) -> list[StreamEvent]:
        error = event.get("error")
        if error is None:
            error = (event.get("response") or {}).get("error") or {}
        if not isinstance(error, dict):
            error = {"message": str(error)}
        if event["type"] == "error" and "message" in event:
            error = event
        code = error.get("code")
        raise StreamErrorFrame(
            "The server reported an error in the middle of the answer"
            f"{f' ({code})' if code else ''}: {error.get('message') or 'no message'}",
            code=code if isinstance(code, str | int) else None,
            partial=self.state.text,
        )

    # -- output items -----------------------------------------------------------------------

    def _item_added(self, event: dict[str, Any]) -> list[StreamEvent]:
        item = _object(event, "item")
        kind = item.get("type")
        if kind == "function_call":
            number = len(self.state.tool_calls)
            self._calls[_index(event)] = number
            call_id = _text(item, "call_id")
            call = ToolCallState(id=call_id, name=_text(item, "name"))
            self.state.tool_calls[number] = call
            events: list[StreamEvent] = [ToolCallStarted(0, number, call.id, call.name)]
            if item.get("arguments"):
                call.arguments.append(str(item["arguments"]))
                events.append(ToolCallArgumentsDelta(0, number, str(item["arguments"])))
            return events
        if kind == "reasoning":
            self._summary_parts = 0
        if kind in BUILTIN_TOOL_ITEMS:
            return [_builtin(item, "in_progress")]
        return []

    def _item_done(self, event: dict[str, Any]) -> list[StreamEvent]:
        item = _object(event, "item")
        kind = item.get("type")
        if kind == "function_call":
            number = self._calls.get(_index(event))
            call = self.state.tool_calls.get(number) if number is not None else None
            if call is None or number is None:
                return [*self._item_added(event), *self._item_done(event)]
            arguments = item.get("arguments")
            if isinstance(arguments, str) and arguments != "".join(call.arguments):
                call.arguments[:] = [arguments]  # the whole arguments are the truth
            return [call.done_event(0, number)] if not call.done else []
        if kind == "reasoning":
            if item.get("encrypted_content") or item.get("id"):
                self.reasoning_items.append(_reasoning_item(item))
            return []
        if kind in BUILTIN_TOOL_ITEMS:
            return [_builtin(item, "completed")]
        return []

    # -- deltas -----------------------------------------------------------------------------

    def _content(self, event: dict[str, Any]) -> list[StreamEvent]:
        text = _text(event, "delta")
        if self.state.content_parts is None:
            self.state.content_parts = []
        self.state.content_parts.append(text)
        return [ContentDelta(0, text)] if text else []

    def _refusal(self, event: dict[str, Any]) -> list[StreamEvent]:
        text = _text(event, "delta")
        if self.state.refusal_parts is None:
            self.state.refusal_parts = []
        self.state.refusal_parts.append(text)
        return [RefusalDelta(0, text)] if text else []

    def _summary_part(self, event: dict[str, Any]) -> list[StreamEvent]:
        """A second summary part starts: a blank line between the two, as ChatGPT shows them."""
        self._summary_parts += 1
        if self._summary_parts > 1 and self.state.reasoning_parts:
            self.state.reasoning_parts.append("\n\n")
            return [ReasoningDelta(0, "\n\n", "summary")]
        return []

    def _reasoning(self, event: dict[str, Any]) -> list[StreamEvent]:
        text = _text(event, "delta")
        if not text:
            return []
        self.state.reasoning_parts.append(text)
        dialect: Literal["summary", "reasoning_text"] = (
            "summary" if "summary" in event["type"] else "reasoning_text"
        )
        return [ReasoningDelta(0, text, dialect)]

    def _arguments(self, event: dict[str, Any]) -> list[StreamEvent]:
        text = _text(event, "delta")
        number = self._calls.get(_index(event))
        if number is None:
            raise ChunkValidationError(
                "The server sent arguments of a function call that was never opened "
                f"(output_index {event.get('output_index')!r}).",
                raw=json.dumps(event),
                partial=self.state.text,
            )
        self.state.tool_calls[number].arguments.append(text)
        return [ToolCallArgumentsDelta(0, number, text)] if text else []

    def _annotation(self, event: dict[str, Any]) -> list[StreamEvent]:
        note = _object(event, "annotation")
        if note.get("type") != "url_citation":
            return []  # file citations and paths: nothing to link to in a notebook
        start, end = note.get("start_index"), note.get("end_index")
        citation = Citation(
            0,
            _text(note, "url"),
            str(note.get("title") or ""),
            start if isinstance(start, int) else 0,
            end if isinstance(end, int) else 0,
        )
        self.citations.append(citation)
        return [citation]

    def whole(self, body: bytes) -> list[StreamEvent]:
        """A whole ``response`` object (the answer to a request that did not stream, or a
        proxy's) read as the events its stream would have sent."""
        text = body.decode("utf-8", errors="replace")
        try:
            whole = json.loads(text)
        except (ValueError, RecursionError):
            whole = None
        if isinstance(whole, dict) and isinstance(whole.get("error"), dict):
            self._failed({"type": "error", **whole["error"]})
        if not isinstance(whole, dict) or not isinstance(whole.get("output"), list):
            raise ChunkValidationError(
                f"The server answered with JSON that is not a response.\nRaw body: {shorten(text)}",
                raw=text,
            )
        end = "response.incomplete" if whole.get("status") == "incomplete" else "response.completed"
        events = self._started({"type": end, "response": whole})
        for index, item in enumerate(whole["output"]):
            events += self._replayed(index, item)
        return events + self._ended({"type": end, "response": whole})

    def _replayed(self, index: int, item: Any) -> list[StreamEvent]:
        """One output item of a whole response, as its stream events would have said it."""
        if not isinstance(item, dict):
            return []
        at = {"output_index": index, "item": item}
        events = self.event({"type": "response.output_item.added", **at})
        if item.get("type") == "reasoning":
            for part in item.get("summary") or []:
                events += self.event({"type": "response.reasoning_summary_part.added"})
                text = part.get("text", "") if isinstance(part, dict) else ""
                events += self._reasoning({"type": "summary", "delta": text})
        for part in item.get("content") or [] if item.get("type") == "message" else []:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "output_text":
                events += self._content({"type": kind, "delta": part.get("text", "")})
                for note in part.get("annotations") or []:
                    events += self._annotation({"type": kind, "annotation": note})
            elif kind == "refusal":
                events += self._refusal({"type": kind, "delta": part.get("refusal", "")})
        return events + self.event({"type": "response.output_item.done", **at})

    # -- the reply --------------------------------------------------------------------------

    def result(self, *, allow_partial: bool = False) -> ChatCompletionResponse:
        """The reply as a ``chat.completion`` (what the History and the Answer read)."""
        if not self.done and not allow_partial:
            from ..errors import TruncatedStreamError

            raise TruncatedStreamError(
                "The stream ended before the answer was finished (no response.completed): "
                "the connection may have dropped.",
                partial=self.state.text,
            )
        message = self.state.message()
        if self.reasoning_items:
            # Kept with the answer (an extra field the Chat Completions wire leaves out), so
            # that the next request sends the model's reasoning back.
            message = message.model_copy(update={"reasoning_items": self.reasoning_items})
        choice = Choice(
            index=0,
            message=message,
            logprobs=None,
            finish_reason=self.state.finish_reason or "length",
        )
        return ChatCompletionResponse(
            id=self.id or "",
            object="chat.completion",
            created=self.created,
            model=self.model or "",
            choices=[choice],
            usage=self.usage,
        )


def _index(event: dict[str, Any]) -> int:
    index = event.get("output_index")
    return index if isinstance(index, int) else -1


def _builtin(item: dict[str, Any], default: str) -> BuiltinToolStatus:
    kind = str(item.get("type", "tool")).removesuffix("_call")
    action = item.get("action")
    detail = ""
    if isinstance(action, dict) and isinstance(action.get("query"), str):
        detail = action["query"]
    elif isinstance(item.get("server_label"), str):
        detail = f"{item['server_label']}: {item.get('name', '')}".rstrip(": ")
    status = item.get("status")
    return BuiltinToolStatus(
        0, str(item.get("id", "")), kind, status if isinstance(status, str) else default, detail
    )


def _reasoning_item(item: dict[str, Any]) -> dict[str, Any]:
    """A reasoning item as it can be sent back as input."""
    kept = {"type": "reasoning", "id": item.get("id"), "summary": item.get("summary") or []}
    if item.get("encrypted_content"):
        kept["encrypted_content"] = item["encrypted_content"]
    return {k: v for k, v in kept.items() if v is not None}


_HANDLERS: dict[str, Any] = {
    "response.created": ResponsesReader._started,
    "response.in_progress": ResponsesReader._started,
    "response.queued": ResponsesReader._started,
    "response.completed": ResponsesReader._ended,
    "response.incomplete": ResponsesReader._ended,
    "response.failed": ResponsesReader._failed,
    "error": ResponsesReader._failed,
    "response.output_item.added": ResponsesReader._item_added,
    "response.output_item.done": ResponsesReader._item_done,
    "response.output_text.delta": ResponsesReader._content,
    "response.refusal.delta": ResponsesReader._refusal,
    "response.reasoning_summary_part.added": ResponsesReader._summary_part,
    "response.reasoning_summary_text.delta": ResponsesReader._reasoning,
    "response.reasoning_text.delta": ResponsesReader._reasoning,
    "response.function_call_arguments.delta": ResponsesReader._arguments,
    "response.output_text.annotation.added": ResponsesReader._annotation,
}
