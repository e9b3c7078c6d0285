"""The mock's engine, without any front: replies, chunking, limits, timing and frame shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatnb.mock import MarkdownSample, MockEngine, markdown_sample
from chatnb.mock.engine import Frame, MockAPIError
from chatnb.schema import ChatCompletionRequest
from chatnb.stream import SSEDecoder, StreamAccumulator, iter_chunks
from chatnb.tokens import count_tokens

from .conftest import RECORDINGS, recording_frames


def request(text: str = "Hello there", **fields: Any) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate(
        {"model": "gpt-4o", "messages": [{"role": "user", "content": text}], **fields}
    )


def play(frames: list[Frame]) -> StreamAccumulator:
    decoder = SSEDecoder()
    events = [e for f in frames if f.data for e in decoder.feed(f.data)] + decoder.flush()
    acc = StreamAccumulator()
    for chunk in iter_chunks(events):
        acc.add(chunk)
    return acc


def streamed(engine: MockEngine, req: ChatCompletionRequest) -> StreamAccumulator:
    return play(list(engine.stream(req.model_copy(update={"stream": True}))))


def test_echo_is_the_default_and_stream_equals_non_stream() -> None:
    engine = MockEngine()
    _, whole = engine.complete(request("What is 2+2?"))
    assert whole.choices[0].message.content == "What is 2+2?"
    assert streamed(engine, request("What is 2+2?")).text() == "What is 2+2?"


def test_fixed_scripted_and_callable_replies() -> None:
    assert MockEngine("Fixed.").complete(request())[1].choices[0].message.content == "Fixed."
    script = MockEngine(["one", "two"])
    answers = [script.complete(request())[1].choices[0].message.content for _ in range(3)]
    assert answers == ["one", "two", "one"]
    shout = MockEngine(lambda req: str(req.messages[-1].content).upper())
    assert streamed(shout, request("hey")).text() == "HEY"


def test_markdown_sample_is_deterministic_and_looks_like_llm_output() -> None:
    text = markdown_sample(20_000, seed=3)
    assert text == markdown_sample(20_000, seed=3) != markdown_sample(20_000, seed=4)
    assert 20_000 <= len(text) < 21_000
    for mark in ("\n## ", "\n- **", "\n```python\n", "\n|---|", "\n> ", "\n1. ", "](https://"):
        assert mark in text
    engine = MockEngine(MarkdownSample(5_000))
    assert streamed(engine, request()).text() == markdown_sample(5_000)


@pytest.mark.parametrize("chunking", ["tokens", "words", "chars"])
def test_chunking_rebuilds_the_text(chunking: str) -> None:
    text = "Hello **wörld**, 日本語 and `code`.\n\n- a list"
    frames = list(MockEngine(text, chunking=chunking).stream(request(stream=True)))  # type: ignore[arg-type]
    token_frames = len(frames) - 3  # role chunk, finish chunk, [DONE]
    expected = {"chars": len(text), "words": len(text.split()) + 1}.get(chunking)
    if expected is not None:
        assert token_frames in (expected, expected - 1)
    assert play(frames).text() == text


def test_n_choices_limits_stop_and_usage() -> None:
    engine = MockEngine("alpha beta gamma delta epsilon")
    acc = streamed(engine, request(n=3, stream_options={"include_usage": True}, stream=True))
    assert [acc.text(i) for i in range(3)] == ["alpha beta gamma delta epsilon"] * 3
    assert acc.usage is not None
    assert acc.usage.prompt_tokens == count_tokens(
        [{"role": "user", "content": "Hello there"}], "gpt-4o"
    )
    assert acc.usage.completion_tokens == 3 * 5
    cut = streamed(engine, request(max_tokens=2)).result().choices[0]
    assert (cut.message.content, cut.finish_reason) == ("alpha beta", "length")
    stopped = engine.complete(request(stop=[" gamma", "zzz"]))[1].choices[0]
    assert (stopped.message.content, stopped.finish_reason) == ("alpha beta", "stop")


def test_timing_is_planned_per_frame() -> None:
    engine = MockEngine("a b c d", chunking="words", ttft_ms=200, itl_ms=30)
    delays = [f.delay_s for f in engine.stream(request(stream=True))]
    assert delays == [0.2, 0.03, 0.03, 0.03, 0.03, 0.0, 0.0]
    jittery = MockEngine("a b c d", chunking="words", itl_ms=30, jitter_ms=10, seed=1)
    jitters = [f.delay_s for f in jittery.stream(request(stream=True))][1:5]
    assert all(0.02 <= d <= 0.04 for d in jitters) and len(set(jitters)) > 1
    assert engine.complete(request())[0] == pytest.approx(0.2 + 0.03 * 3)


def test_context_length_exceeded_like_the_real_api() -> None:
    engine = MockEngine()
    long = request("word " * 9_000).model_copy(update={"model": "gpt-4"})
    with pytest.raises(MockAPIError) as error:
        engine.complete(long)
    assert error.value.status == 400
    assert error.value.body.error.code == "context_length_exceeded"
    assert "maximum context length is 8192 tokens" in error.value.body.error.message


def _shape(frame: str) -> tuple[Any, ...]:
    chunk = json.loads(frame)
    choice = chunk["choices"][0] if chunk["choices"] else {}
    return (
        tuple(sorted(k for k in chunk if k != "usage")),
        "usage" in chunk,
        tuple(sorted(choice)),
        tuple(sorted(choice.get("delta", {}))),
    )


def test_mock_frames_have_the_shape_of_the_real_recordings() -> None:
    (plain,) = [p for p in RECORDINGS if p.name.startswith("e2aad469")]
    real = recording_frames(plain)
    frames = [
        f.data.decode()[len("data: ") :].strip()
        for f in MockEngine("I'm fine, thanks for asking!").stream(
            request(stream=True, stream_options={"include_usage": True})
        )
        if f.data
    ]
    assert frames[-1] == "[DONE]"
    ours = frames[:-1]
    # first, middle, final and usage chunks carry the same fields as the real API's
    for mine, theirs in [
        (ours[0], real[0]),
        (ours[1], real[1]),
        (ours[-2], real[-2]),
        (ours[-1], real[-1]),
    ]:
        assert _shape(mine)[:2] == _shape(theirs)[:2]
        assert _shape(mine)[2:] == _shape(theirs)[2:]
    assert sum('"role"' in f for f in ours) == 1
    assert sum('"finish_reason":"stop"' in f for f in ours) == 1
