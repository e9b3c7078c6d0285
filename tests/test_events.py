"""Typed events: what each chunk changed, checked against the accumulated reply on the 12 real
recordings and on the reasoning dialects, and routed to views by type."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, ClassVar

from chatnb import Chatbot
from chatnb.display import ContentView, MarkdownStream, TextSink, Views
from chatnb.events import (
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
from chatnb.stream import StreamAccumulator, parse_chunk
from chatnb.turn import Turn

from .conftest import recording_frames


def _events(frames: list[str]) -> tuple[StreamAccumulator, list[StreamEvent]]:
    acc = StreamAccumulator()
    events: list[StreamEvent] = []
    for frame in frames:
        events += acc.add(parse_chunk(frame))
    return acc, events


def test_deltas_add_up_to_the_accumulated_reply(recording: Path) -> None:
    acc, events = _events(recording_frames(recording))
    result = acc.result()
    content: dict[int, str] = defaultdict(str)
    refusal: dict[int, str] = defaultdict(str)
    arguments: dict[tuple[int, int], str] = defaultdict(str)
    for event in events:
        if isinstance(event, ContentDelta):
            content[event.choice] += event.text
        elif isinstance(event, RefusalDelta):
            refusal[event.choice] += event.text
        elif isinstance(event, ToolCallArgumentsDelta):
            arguments[event.choice, event.index] += event.text
    for choice in result.choices:
        message = choice.message
        assert content[choice.index] == (message.content or "")
        assert refusal[choice.index] == (message.refusal or "")
        for index, call in enumerate(message.tool_calls or []):
            assert arguments[choice.index, index] == call.function.arguments
            json.loads(call.function.arguments)  # whole JSON, as the API sent it


def test_every_choice_finishes_once_and_usage_comes_last(recording: Path) -> None:
    acc, events = _events(recording_frames(recording))
    finished = [e for e in events if isinstance(e, ChoiceFinished)]
    assert sorted(e.choice for e in finished) == sorted(acc.choices)
    assert all(e.finish_reason == acc.choices[e.choice].finish_reason for e in finished)
    assert isinstance(events[-1], UsageReported) and events[-1].usage == acc.usage


def test_tool_calls_start_stream_and_finish_in_order(recording: Path) -> None:
    acc, events = _events(recording_frames(recording))
    calls = [e for e in events if isinstance(e, ToolCallStarted | ToolCallDone)]
    expected = []
    for choice in acc.result().choices:
        for index, call in enumerate(choice.message.tool_calls or []):
            started = ToolCallStarted(choice.index, index, call.id, call.function.name)
            done = ToolCallDone(
                choice.index, index, call.id, call.function.name, call.function.arguments
            )
            expected += [started, done]
    assert calls == expected
    for event in events:  # every argument fragment belongs to a call that is open
        if isinstance(event, ToolCallArgumentsDelta):
            opened = events.index(ToolCallStarted(event.choice, event.index, *_id_name(acc, event)))
            assert opened < events.index(event)


def _id_name(acc: StreamAccumulator, event: ToolCallArgumentsDelta) -> tuple[str, str]:
    call = acc.choices[event.choice].tool_calls[event.index]
    return call.id, call.name


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return json.dumps(
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [choice],
        }
    )


def test_both_reasoning_dialects_are_one_channel_kept_apart_from_the_answer() -> None:
    frames = [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"reasoning_content": "Think "}),  # DeepSeek, older vLLM
        _chunk({"reasoning": "twice."}),  # Ollama, newer vLLM, OpenRouter
        _chunk({"content": "Answer."}),
        _chunk({}, "stop"),
    ]
    acc, events = _events(frames)
    assert [e for e in events if isinstance(e, ReasoningDelta)] == [
        ReasoningDelta(0, "Think ", "reasoning_content"),
        ReasoningDelta(0, "twice.", "reasoning"),
    ]
    assert acc.choices[0].reasoning == "Think twice."
    message = acc.result().choices[0].message
    assert message.content == "Answer." and "reasoning" not in message.model_dump()


def test_every_event_names_its_type() -> None:
    kinds = {
        ContentDelta: "content.delta",
        RefusalDelta: "refusal.delta",
        ReasoningDelta: "reasoning.delta",
        ToolCallStarted: "tool_call.started",
        ToolCallArgumentsDelta: "tool_call.arguments.delta",
        ToolCallDone: "tool_call.done",
        ChoiceFinished: "choice.finished",
        UsageReported: "usage",
    }
    assert {kind.type for kind in kinds} == set(kinds.values())
    assert all(kind.type == name for kind, name in kinds.items())


class ReasoningRecorder:
    """A view of one more channel: all it takes is naming its events."""

    events: ClassVar[tuple[type, ...]] = (ReasoningDelta,)

    def __init__(self) -> None:
        self.text = ""
        self.closed = False

    def handle(self, event: ReasoningDelta) -> None:
        self.text += event.text

    def close(self) -> None:
        self.closed = True


def test_views_take_only_the_events_of_their_channel() -> None:
    frames = [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"reasoning": "Hmm."}),
        _chunk({"content": "Yes."}),
        _chunk({}, "stop"),
    ]
    _, events = _events(frames)
    sink, recorder = _Lines(), ReasoningRecorder()
    stream = MarkdownStream(sink=TextSink(sink))
    views = Views([ContentView(stream), recorder], TextSink(sink))
    views.handle(events)
    views.close()
    assert recorder.text == "Hmm." and recorder.closed
    assert stream.text == "Yes." and stream.closed and sink.getvalue() == "Yes.\n"


class _Lines:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def getvalue(self) -> str:
        return "".join(self.parts)


def test_the_chatbot_shows_a_refusal_and_returns_it() -> None:
    refusal = [
        _chunk({"role": "assistant", "content": None, "refusal": ""}),
        _chunk({"refusal": "I can't help with that."}),
        _chunk({}, "stop"),
    ]
    sink = _Lines()
    bot = Chatbot.mock(display=TextSink(sink))  # type: ignore[arg-type]
    exchange = Turn.of(bot, None, {})._exchange("Do something bad")
    for frame in [*refusal, "[DONE]"]:
        exchange.receive(f"data: {frame}\n\n".encode())
    exchange.end()
    answer = exchange.finish(bot.usage)
    assert answer == "I can't help with that." == sink.getvalue().strip()
    assert bot.history[-1].refusal == "I can't help with that."
