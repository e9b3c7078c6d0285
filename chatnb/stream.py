"""Raw server-sent events -> validated chunks -> an accumulated reply.

Three small pieces, none of which does I/O:

* :class:`SSEDecoder` turns bytes, as they arrive, into events;
* :func:`parse_chunk` validates one ``data:`` payload as a :class:`ChatCompletionChunk`
  (or raises a :class:`~chatnb.errors.ChatnbError` that names the field, what was expected and
  shows the raw frame);
* :class:`StreamAccumulator` folds chunks into the final reply of every choice, returns the
  typed :mod:`~chatnb.events` each chunk caused, and refuses chunks that contradict what came
  before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pydantic import ValidationError

from .errors import (
    ChunkValidationError,
    FrameTooLargeError,
    StreamContradictionError,
    StreamErrorFrame,
    TruncatedStreamError,
    shorten,
)
from .events import (
    ChoiceFinished,
    ContentDelta,
    ReasoningDelta,
    RefusalDelta,
    StreamEvent,
    ToolCallArgumentsDelta,
    ToolCallDone,
    ToolCallStarted,
    UsageReported,
)
from .schema import (
    ChatCompletionChunk,
    ChatCompletionResponse,
    ChatMessage,
    Choice,
    ChoiceLogprobs,
    ChunkChoice,
    Delta,
    ErrorResponse,
    FinishReason,
    FunctionCall,
    FunctionCallDelta,
    Role,
    TokenLogprob,
    ToolCall,
    Usage,
)
from .think_tags import Piece, ThinkTags

__all__ = [
    "DONE",
    "MAX_FRAME_BYTES",
    "ChoiceState",
    "SSEDecoder",
    "SSEEvent",
    "StreamAccumulator",
    "ToolCallState",
    "chunk_of",
    "iter_chunks",
    "parse_chunk",
]

DONE = "[DONE]"
#: The longest line, or event (its ``data:`` lines together), the SSE reader accepts: 16 MiB.
#: One chunk of a real stream is a delta, usually under a kilobyte; the largest real frames
#: are a whole completion a proxy sends as one event (128k output tokens are about 1 MB of
#: JSON) or an inline image (a few MB). Past the cap the answer is refused, not read on.
MAX_FRAME_BYTES = 16 * 2**20
_SSE_LINE_BREAK = re.compile(r"\r\n|\r|\n")


# --- server-sent events -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SSEEvent:
    data: str
    event: str | None = None


class SSEDecoder:
    """Incremental decoder of a ``text/event-stream`` body (WHATWG rules).

    Feed it bytes in whatever pieces the network delivers; it returns the events completed
    so far. Lines end in LF, CRLF or CR; ``data:`` lines of one event are joined with LF;
    comments (``:``) and unknown fields are ignored.

    Its work is linear in the bytes fed, however they are cut: a line still open is kept as
    a list of pieces and joined once, when its end arrives, and line ends are searched for in
    the new bytes only. A line or an event's data longer than ``max_frame`` (default
    :data:`MAX_FRAME_BYTES`) raises :class:`~chatnb.errors.FrameTooLargeError` as soon as it
    passes the cap, so a server that never ends a line cannot fill the memory.
    """

    def __init__(self, max_frame: int = MAX_FRAME_BYTES) -> None:
        self.max_frame = max_frame
        self._open: list[bytes] = []  # the pieces of the line not yet ended
        self._open_size = 0
        self._after_cr = False  # the last piece ended a line with CR: an LF next is its CRLF
        self._data: list[str] = []
        self._data_size = 0
        self._event: str | None = None

    def feed(self, data: bytes) -> list[SSEEvent]:
        if self._after_cr and data.startswith(b"\n"):
            data = data[1:]
        self._after_cr = False
        last_break = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if last_break < 0:
            self._keep(data)
            return []
        complete = b"".join(self._open) + data[: last_break + 1]
        self._open, self._open_size = [], 0
        self._after_cr = data.endswith(b"\r")
        self._keep(data[last_break + 1 :])
        events: list[SSEEvent] = []
        # Only CR, LF and CRLF end a line in an event stream; str.splitlines() would also cut at
        # U+2028, U+0085 and others, which JSON may carry raw inside a string.
        for line in _SSE_LINE_BREAK.split(complete.decode("utf-8", errors="replace"))[:-1]:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> list[SSEEvent]:
        """End of body: a last event that was not followed by a blank line is dispatched."""
        events = self.feed(b"\n") if self._open else []
        tail = self._line("")
        return events + ([tail] if tail is not None else [])

    def _keep(self, piece: bytes) -> None:
        """Keep the start of a line not yet ended; refuse it once it passes the cap."""
        if not piece:
            return
        self._open.append(piece)
        self._open_size += len(piece)
        if self._open_size > self.max_frame:
            size = self._open_size
            self._open, self._open_size = [], 0  # what was refused is not kept in memory
            raise _too_large(f"a line with no end ({size:,} bytes so far)", self.max_frame)

    def _line(self, line: str) -> SSEEvent | None:
        if len(line) > self.max_frame:  # a long line that came in one piece, with its end
            raise _too_large(f"a line of {len(line):,} characters", self.max_frame)
        if not line:
            if not self._data:
                self._event = None
                return None
            event = SSEEvent("\n".join(self._data), self._event)
            self._data, self._data_size, self._event = [], 0, None
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._data_size += len(value) + 1
            if self._data_size > self.max_frame:  # many lines of data, one event
                size, self._data, self._data_size = self._data_size, [], 0
                raise _too_large(f"an event of {size:,} characters", self.max_frame)
        elif name == "event":
            self._event = value
        return None


def _too_large(what: str, cap: int) -> FrameTooLargeError:
    return FrameTooLargeError(
        f"The server sent {what}, more than the {cap / 2**20:g} MiB chatnb reads as one frame "
        "of an answer, so it stopped reading. A chunk of a real answer is usually under a "
        "kilobyte; this looks like a broken or hostile server (or a proxy that never ends a "
        "line)."
    )


# --- validating one frame -----------------------------------------------------------------


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False)[:3]:
        where = ".".join(str(p) for p in item["loc"]) or "the frame"
        got = item.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
        parts.append(f"{where}: {item['msg']}{shown}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def parse_chunk(data: str) -> ChatCompletionChunk:
    """Validate one ``data:`` payload.

    Raises :class:`StreamErrorFrame` when the server sent an error object instead of a chunk,
    and :class:`ChunkValidationError` for anything else that is not a valid chunk.
    """
    if not data.strip():
        raise ChunkValidationError(
            "The server sent an empty data frame where a chat.completion.chunk was expected.",
            raw=data,
        )
    try:
        return ChatCompletionChunk.model_validate_json(data)
    except ValidationError as invalid:
        if invalid.errors()[0]["type"] == "json_invalid":
            reason = invalid.errors()[0].get("ctx", {}).get("error", "invalid JSON")
            raise ChunkValidationError(
                f"The server sent a frame that is not JSON ({reason}).\nRaw frame: {shorten(data)}",
                raw=data,
            ) from None
        _raise_if_error_frame(data)
        raise ChunkValidationError(
            f"The server sent an invalid chat.completion.chunk: {_describe(invalid)}.\n"
            f"Raw frame: {shorten(data)}",
            raw=data,
        ) from None


def _raise_if_error_frame(data: str) -> None:
    try:
        body = ErrorResponse.model_validate_json(data)
    except ValidationError:
        return
    error = body.error
    kind = f" ({error.type})" if error.type else ""
    raise StreamErrorFrame(
        f"The server reported an error in the middle of the answer{kind}: {error.message}",
        code=error.code,
    )


def chunk_of(body: bytes) -> ChatCompletionChunk:
    """A whole ``chat.completion`` (the JSON some proxies answer a streamed request with) as
    the one chunk it stands for: each choice's message as its delta, with its finish_reason,
    and the usage. Raises as :func:`parse_chunk` does when it is not a valid completion."""
    text = body.decode("utf-8", errors="replace")
    try:
        whole = ChatCompletionResponse.model_validate_json(text)
    except ValidationError as invalid:
        _raise_if_error_frame(text)
        raise ChunkValidationError(
            f"The server answered with JSON that is not a chat.completion: {_describe(invalid)}."
            f"\nRaw body: {shorten(text)}",
            raw=text,
        ) from None
    choices = []
    for choice in whole.choices:
        message = choice.message.model_dump(exclude_none=True)
        calls = message.pop("tool_calls", None) or []
        delta = {**message, "tool_calls": [{"index": i, **c} for i, c in enumerate(calls)]}
        fields = {"index": choice.index, "delta": delta, "finish_reason": choice.finish_reason}
        choices.append(fields if calls else {**fields, "delta": message})
    chunk = {**whole.model_dump(exclude_none=True), "object": "chat.completion.chunk"}
    return ChatCompletionChunk.model_validate({**chunk, "choices": choices})


def iter_chunks(events: Iterable[SSEEvent]) -> Iterator[ChatCompletionChunk]:
    """Validated chunks from events, up to ``[DONE]``."""
    for event in events:
        if event.data == DONE:
            return
        yield parse_chunk(event.data)


# --- accumulating -------------------------------------------------------------------------


@dataclass
class ToolCallState:
    """One tool call of a choice, as far as it arrived."""

    id: str
    name: str
    arguments: list[str] = field(default_factory=list)
    done: bool = False

    def done_event(self, choice: int, index: int) -> ToolCallDone:
        self.done = True
        return ToolCallDone(choice, index, self.id, self.name, "".join(self.arguments))


@dataclass
class ChoiceState:
    """What one choice has received so far."""

    index: int
    role: Role | None = None
    content_parts: list[str] | None = None
    refusal_parts: list[str] | None = None
    reasoning_parts: list[str] = field(default_factory=list)
    tool_calls: dict[int, ToolCallState] = field(default_factory=dict)
    finish_reason: FinishReason | None = None
    #: Splits a leading <think>...</think> out of the content; None once the answer began.
    think: ThinkTags | None = field(default_factory=ThinkTags)
    content_logprobs: list[TokenLogprob] | None = None
    refusal_logprobs: list[TokenLogprob] | None = None

    @property
    def content(self) -> str | None:
        return None if self.content_parts is None else "".join(self.content_parts)

    @property
    def refusal(self) -> str | None:
        return None if self.refusal_parts is None else "".join(self.refusal_parts)

    @property
    def reasoning(self) -> str:
        """The reasoning a thinking model streamed, whichever field carried it."""
        return "".join(self.reasoning_parts)

    @property
    def text(self) -> str:
        """What the reader sees as the answer: the content, or the refusal if there is one."""
        return self.content or self.refusal or ""

    def message(self) -> ChatMessage:
        tool_calls = [
            ToolCall(
                id=call.id,
                type="function",
                function=FunctionCall(name=call.name, arguments="".join(call.arguments)),
            )
            for _, call in sorted(self.tool_calls.items())
        ]
        content = self.content
        if content is None and not tool_calls and self.refusal is None:
            content = ""
        return ChatMessage(
            role="assistant", content=content, refusal=self.refusal, tool_calls=tool_calls or None
        )


def _has_output(delta: Delta) -> bool:
    return bool(
        delta.content
        or delta.refusal
        or delta.tool_calls
        or delta.reasoning_content
        or delta.reasoning
    )


def _split_content(state: ChoiceState, pieces: list[Piece], events: list[StreamEvent]) -> None:
    """Content pieces as content, a leading <think> block's as reasoning."""
    for kind, text in pieces:
        if kind == "reasoning":
            state.reasoning_parts.append(text)
            events.append(ReasoningDelta(state.index, text, "think"))
        else:
            assert state.content_parts is not None
            state.content_parts.append(text)
            events.append(ContentDelta(state.index, text))
    if state.think is not None and state.think.decided:
        state.think = None


class StreamAccumulator:
    """Folds validated chunks into the reply of every choice (a pure state machine).

    :meth:`add` returns the typed events each chunk caused:

    >>> acc = StreamAccumulator()
    >>> for chunk in chunks:                            # doctest: +SKIP
    ...     for event in acc.add(chunk):
    ...         if isinstance(event, ContentDelta):
    ...             print(event.text, end="")
    >>> acc.result().choices[0].message.content         # doctest: +SKIP
    """

    def __init__(self) -> None:
        self.id: str | None = None
        self.model: str | None = None
        self.created: int | None = None
        self.system_fingerprint: str | None = None
        self.usage: Usage | None = None
        self.choices: dict[int, ChoiceState] = {}
        self.chunk_count = 0

    @property
    def done(self) -> bool:
        """Every choice that was opened has its finish_reason."""
        return bool(self.choices) and all(c.finish_reason for c in self.choices.values())

    def text(self, index: int = 0) -> str:
        """What choice ``index`` has shown so far (content, or its refusal; '' before any)."""
        choice = self.choices.get(index)
        return choice.text if choice else ""

    def add(self, chunk: ChatCompletionChunk) -> list[StreamEvent]:
        """Take one chunk; return the events it caused, in order."""
        if chunk.is_annotation:  # Azure's prompt-filter frame: before the stream, no id
            return []
        if self.id is None:
            self.id, self.model, self.created = chunk.id, chunk.model, chunk.created
        elif chunk.id != self.id:
            raise StreamContradictionError(
                f"The chunk id changed in the middle of the stream, from {self.id!r} to "
                f"{chunk.id!r}: two answers are mixed up.",
                partial=self.text(),
            )
        if chunk.system_fingerprint is not None:
            self.system_fingerprint = chunk.system_fingerprint
        events: list[StreamEvent] = []
        for choice in chunk.choices:
            self._add_choice(choice, events)
        if chunk.usage is not None:
            self.usage = chunk.usage
            events.append(UsageReported(chunk.usage))
        self.chunk_count += 1
        return events

    def _add_choice(self, chunk: ChunkChoice, events: list[StreamEvent]) -> None:
        state = self.choices.setdefault(chunk.index, ChoiceState(chunk.index))
        delta = chunk.delta
        if state.finish_reason is not None:
            # Some servers repeat the finish_reason on the usage chunk: the same reason again,
            # with nothing new, is that. A different one, or more output, is a contradiction.
            repeated = chunk.finish_reason in (None, state.finish_reason)
            if repeated and not _has_output(delta):
                return
            what = "more content" if _has_output(delta) else "a second finish_reason"
            raise StreamContradictionError(
                f"Choice {chunk.index} received {what} after it had finished "
                f"with finish_reason {state.finish_reason!r}.",
                partial=self.text(),
            )
        if delta.role is not None:
            state.role = delta.role
        self._add_text(state, delta, events)
        for call in delta.tool_calls or ():
            self._add_tool_call(state, call.index, call.id, call.function, events)
        if chunk.logprobs is not None:
            self._add_logprobs(state, chunk.logprobs)
        if chunk.finish_reason is not None:
            if state.think is not None:
                _split_content(state, state.think.finish(), events)
            state.finish_reason = chunk.finish_reason
            for index, tool in sorted(state.tool_calls.items()):
                if not tool.done:
                    events.append(tool.done_event(state.index, index))
            events.append(ChoiceFinished(state.index, chunk.finish_reason))

    @staticmethod
    def _add_text(state: ChoiceState, delta: Delta, events: list[StreamEvent]) -> None:
        index = state.index
        if delta.reasoning_content:
            state.reasoning_parts.append(delta.reasoning_content)
            events.append(ReasoningDelta(index, delta.reasoning_content, "reasoning_content"))
        if delta.reasoning:
            state.reasoning_parts.append(delta.reasoning)
            events.append(ReasoningDelta(index, delta.reasoning, "reasoning"))
        if delta.content is not None:
            if state.content_parts is None:
                state.content_parts = []
            if delta.content:
                if state.think is None:  # the answer began: no tag can come any more
                    state.content_parts.append(delta.content)
                    events.append(ContentDelta(index, delta.content))
                else:
                    _split_content(state, state.think.feed(delta.content), events)
        if delta.refusal is not None:
            if state.refusal_parts is None:
                state.refusal_parts = []
            if delta.refusal:
                state.refusal_parts.append(delta.refusal)
                events.append(RefusalDelta(index, delta.refusal))

    def _add_tool_call(
        self,
        state: ChoiceState,
        index: int,
        call_id: str | None,
        function: FunctionCallDelta | None,
        events: list[StreamEvent],
    ) -> None:
        name = function.name if function else None
        arguments = function.arguments if function else None
        current = state.tool_calls.get(index)
        if current is None:
            if call_id is None:
                raise StreamContradictionError(
                    f"Choice {state.index} received a fragment of tool call {index}, "
                    "which was never opened (no id came first).",
                    partial=self.text(),
                )
            for earlier, call in sorted(state.tool_calls.items()):
                if not call.done:  # a new call starts: the ones before it are complete
                    events.append(call.done_event(state.index, earlier))
            current = state.tool_calls[index] = ToolCallState(id=call_id, name=name or "")
            events.append(ToolCallStarted(state.index, index, call_id, current.name))
        elif call_id is not None and call_id != current.id:
            raise StreamContradictionError(
                f"Tool call {index} of choice {state.index} changed its id from "
                f"{current.id!r} to {call_id!r}.",
                partial=self.text(),
            )
        elif name:
            current.name += name
        if arguments:
            current.arguments.append(arguments)
            events.append(ToolCallArgumentsDelta(state.index, index, arguments))

    @staticmethod
    def _add_logprobs(state: ChoiceState, logprobs: ChoiceLogprobs) -> None:
        if logprobs.content is not None:
            state.content_logprobs = (state.content_logprobs or []) + logprobs.content
        if logprobs.refusal is not None:
            state.refusal_logprobs = (state.refusal_logprobs or []) + logprobs.refusal

    def result(self, *, allow_partial: bool = False) -> ChatCompletionResponse:
        """The whole reply as a ``chat.completion``.

        Raises :class:`TruncatedStreamError` if a choice never finished, unless
        ``allow_partial`` (then an unfinished choice reports finish_reason ``length``).
        """
        if not self.done and not allow_partial:
            raise TruncatedStreamError(
                "The stream ended before the answer was finished (no finish_reason): "
                "the connection may have dropped.",
                partial=self.text(),
            )
        return ChatCompletionResponse(
            id=self.id or "",
            object="chat.completion",
            created=self.created or 0,
            model=self.model or "",
            system_fingerprint=self.system_fingerprint,
            choices=[_choice(state) for _, state in sorted(self.choices.items())],
            usage=self.usage,
        )


def _choice(state: ChoiceState) -> Choice:
    logprobs = None
    if state.content_logprobs is not None or state.refusal_logprobs is not None:
        logprobs = ChoiceLogprobs(content=state.content_logprobs, refusal=state.refusal_logprobs)
    return Choice(
        index=state.index,
        message=state.message(),
        logprobs=logprobs,
        finish_reason=state.finish_reason or "length",
    )
