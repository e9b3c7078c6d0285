"""SSE decoding and stream accumulation, checked against the official openai accumulator."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk as OfficialChunk

from chatnb.errors import (
    ChatnbError,
    FrameTooLargeError,
    StreamContradictionError,
    StreamError,
    TruncatedStreamError,
)
from chatnb.stream import (
    MAX_FRAME_BYTES,
    SSEDecoder,
    SSEEvent,
    StreamAccumulator,
    iter_chunks,
    parse_chunk,
)

from .conftest import RECORDINGS, recording_frames


def _accumulate(frames: list[str]) -> StreamAccumulator:
    acc = StreamAccumulator()
    for chunk in iter_chunks(SSEEvent(f) for f in frames):
        acc.add(chunk)
    return acc


def _by_prefix(prefix: str) -> Path:
    (path,) = [p for p in RECORDINGS if p.name.startswith(prefix)]
    return path


# --- SSE ----------------------------------------------------------------------------------


def test_decoder_reads_a_whole_recording(recording: Path) -> None:
    decoder = SSEDecoder()
    events = decoder.feed(recording.read_bytes()) + decoder.flush()
    assert [e.data for e in events[:-1]] == recording_frames(recording)
    assert events[-1].data == "[DONE]"


@given(cuts=st.lists(st.integers(min_value=0, max_value=3485), max_size=40))
def test_decoder_gives_the_same_events_however_the_bytes_are_split(cuts: list[int]) -> None:
    raw = RECORDINGS[0].read_bytes()
    reference = SSEDecoder().feed(raw)
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    start = 0
    for cut in sorted(set(cuts)):
        events += decoder.feed(raw[start:cut])
        start = cut
    events += decoder.feed(raw[start:]) + decoder.flush()
    assert events == reference


def test_decoder_handles_crlf_cr_comments_multiline_data_and_event_names() -> None:
    decoder = SSEDecoder()
    body = b": keep-alive\r\nevent: error\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\rdata: tail"
    events = decoder.feed(body[:20]) + decoder.feed(body[20:]) + decoder.flush()
    assert events == [SSEEvent("a\nb", "error"), SSEEvent("c"), SSEEvent("tail")]


def test_decoder_splits_crlf_across_pieces_without_an_extra_blank_line() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"data: x\r") + decoder.feed(b"\ndata: y\r\n\r\n")
    assert events == [SSEEvent("x\ny")]


# --- accumulation against the official accumulator ----------------------------------------


def _official(frames: list[str]) -> Any:
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    for frame in frames:
        state.handle_chunk(OfficialChunk.model_validate_json(frame))
    return state.current_completion_snapshot


def test_accumulator_agrees_with_the_official_accumulator(recording: Path) -> None:
    frames = recording_frames(recording)
    ours = _accumulate(frames).result()
    theirs = _official(frames)
    assert len(ours.choices) == len(theirs.choices)
    for mine, official in zip(ours.choices, theirs.choices, strict=True):
        assert mine.index == official.index
        assert mine.finish_reason == official.finish_reason
        assert (mine.message.content or "") == (official.message.content or "")
        assert mine.message.refusal == official.message.refusal
        mine_calls = [
            (c.id, c.function.name, c.function.arguments) for c in mine.message.tool_calls or []
        ]
        their_calls = [
            (c.id, c.function.name, c.function.arguments) for c in official.message.tool_calls or []
        ]
        assert mine_calls == their_calls
        if official.logprobs is not None:
            assert mine.logprobs is not None
            assert [t.token for t in mine.logprobs.content or []] == [
                t.token for t in official.logprobs.content or []
            ]
    assert ours.usage is not None
    counts = ("prompt_tokens", "completion_tokens", "total_tokens")
    assert [getattr(ours.usage, n) for n in counts] == [getattr(theirs.usage, n) for n in counts]


def test_plain_text_recording_is_rebuilt() -> None:
    acc = _accumulate(recording_frames(_by_prefix("e2aad469")))
    assert acc.done
    text = acc.result().choices[0].message.content
    assert isinstance(text, str)
    assert text.startswith("I'm") and len(text) > 50
    assert acc.usage is not None and acc.usage.completion_tokens == 30


def test_n3_recording_builds_three_choices() -> None:
    response = _accumulate(recording_frames(_by_prefix("a491adda"))).result()
    assert [c.index for c in response.choices] == [0, 1, 2]
    for choice in response.choices:
        assert choice.finish_reason == "stop"
        assert isinstance(choice.message.content, str)
        json.loads(choice.message.content)  # structured output: each answer is whole JSON


def test_tool_call_recordings_build_name_and_whole_json_arguments() -> None:
    for prefix in ("c6aa7e39", "f82268f2", "a247c49c", "2018feb6"):
        response = _accumulate(recording_frames(_by_prefix(prefix))).result()
        calls = [c for choice in response.choices for c in choice.message.tool_calls or []]
        assert calls, prefix
        assert response.choices[0].finish_reason == "tool_calls"
        for call in calls:
            assert call.id.startswith("call_")
            assert call.function.name
            assert isinstance(json.loads(call.function.arguments), dict)


def test_refusal_and_length_recordings() -> None:
    refusal = _accumulate(recording_frames(_by_prefix("173417d5"))).result().choices[0]
    assert refusal.message.content is None
    assert refusal.message.refusal and "sorry" in refusal.message.refusal.lower()
    cut = _accumulate(recording_frames(_by_prefix("4cc50a61"))).result().choices[0]
    assert cut.finish_reason == "length"


# --- contradictions -----------------------------------------------------------------------


def _chunk(**fields: Any) -> str:
    base: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": None}],
    }
    return json.dumps(base | fields)


def _choice(
    delta: dict[str, Any], finish: str | None = None, index: int = 0
) -> list[dict[str, Any]]:
    return [{"index": index, "delta": delta, "finish_reason": finish}]


def test_a_second_finish_reason_is_a_contradiction() -> None:
    frames = [
        _chunk(choices=_choice({"content": "a"}, "stop")),
        _chunk(choices=_choice({}, "length")),
    ]
    with pytest.raises(StreamContradictionError, match="second finish_reason") as error:
        _accumulate(frames)
    assert error.value.partial == "a"


def test_content_after_finish_is_a_contradiction() -> None:
    frames = [_chunk(choices=_choice({}, "stop")), _chunk(choices=_choice({"content": "late"}))]
    with pytest.raises(StreamContradictionError, match="more content after it had finished"):
        _accumulate(frames)


def test_a_fragment_of_a_tool_call_never_opened_is_a_contradiction() -> None:
    fragment = {"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}
    with pytest.raises(StreamContradictionError, match="tool call 1, which was never opened"):
        _accumulate([_chunk(choices=_choice(fragment))])


def test_a_changing_chunk_id_is_a_contradiction() -> None:
    with pytest.raises(StreamContradictionError, match="chunk id changed"):
        _accumulate([_chunk(), _chunk(id="chatcmpl-2")])


def test_a_stream_without_finish_reason_is_truncated_but_keeps_the_partial_text() -> None:
    acc = _accumulate([_chunk(), _chunk()])
    assert not acc.done
    with pytest.raises(TruncatedStreamError) as error:
        acc.result()
    assert error.value.partial == "xx"
    assert acc.result(allow_partial=True).choices[0].message.content == "xx"


# --- property: random mutations of real chunks --------------------------------------------

REAL_CHUNKS = [json.loads(f) for path in RECORDINGS for f in recording_frames(path)]
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.sampled_from(["stop", "abort", "chat.completion", "assistant", "function", ""]),
    st.just([]),
    st.just({}),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def mutated_chunks(draw: st.DrawFn) -> str:
    chunk = json.loads(json.dumps(draw(st.sampled_from(REAL_CHUNKS))))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(chunk)
        if not paths:
            break
        *parents, last = draw(st.sampled_from(paths))
        target = chunk
        for key in parents:
            target = target[key]
        if draw(st.booleans()) and isinstance(target, dict):
            del target[last]
        else:
            target[last] = draw(JUNK)
    text = json.dumps(chunk)
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        cut = draw(st.integers(min_value=0, max_value=len(text)))
        text = text[:cut]
    return text


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(frame=mutated_chunks())
def test_mutated_real_chunks_are_accepted_or_rejected_with_a_chatnb_error(frame: str) -> None:
    try:
        chunk = parse_chunk(frame)
    except ChatnbError as error:
        assert str(error)
        return
    acc = StreamAccumulator()
    try:
        acc.add(chunk)
        acc.result(allow_partial=True)
    except ChatnbError:
        pass


@given(
    lines=st.lists(st.sampled_from(["data: a", "data: é€", ": ping", "event: x", ""]), max_size=30),
    ends=st.lists(st.sampled_from(["\n", "\r", "\r\n"]), min_size=30, max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=30),
)
def test_decoder_gives_the_same_events_for_any_line_ends_and_cuts(
    lines: list[str], ends: list[str], cuts: list[int]
) -> None:
    raw = "".join(line + end for line, end in zip(lines, ends, strict=False)).encode()
    whole = SSEDecoder()
    reference = whole.feed(raw) + whole.flush()
    decoder, events, start = SSEDecoder(), [], 0
    for cut in sorted(set(cuts)):
        events += decoder.feed(raw[start:cut])
        start = cut
    assert events + decoder.feed(raw[start:]) + decoder.flush() == reference


def test_a_64_mb_line_with_no_end_is_refused_just_past_the_cap() -> None:
    decoder, piece, fed = SSEDecoder(), b"x" * 65536, 0
    with pytest.raises(FrameTooLargeError) as refused:
        while fed < 64 * 2**20:
            fed += len(piece)
            decoder.feed(piece)
    # Refused as soon as the line passed the cap, not after reading all 64 MB: the decoder
    # never holds more than the cap and one piece.
    assert MAX_FRAME_BYTES < fed <= MAX_FRAME_BYTES + len(piece)
    assert "16 MiB" in str(refused.value) and "\n" not in str(refused.value)
    assert isinstance(refused.value, StreamError)


def test_a_long_line_in_one_piece_and_a_long_event_of_short_lines_are_refused() -> None:
    with pytest.raises(FrameTooLargeError):
        SSEDecoder(max_frame=100).feed(b"data: " + b"y" * 200 + b"\n\n")
    decoder = SSEDecoder(max_frame=100)
    with pytest.raises(FrameTooLargeError):
        for _ in range(20):
            decoder.feed(b"data: " + b"z" * 10 + b"\n")  # one event, never ended
    exact = SSEDecoder(max_frame=100)
    assert exact.feed(b"data: " + b"w" * 94 + b"\n\n") == [SSEEvent("w" * 94)]


def _bytes_scanned(work: Callable[[], object]) -> int:
    """How many bytes and characters the str and bytes methods called during ``work`` were
    handed (their ``self``): searches, splits, decodes. A profile hook sees every such call,
    whichever object it is made on, so no decoder can hide a re-scan from it."""
    scanned = 0

    def profile(frame: object, event: str, arg: Any) -> None:
        nonlocal scanned
        if event == "c_call" and isinstance(getattr(arg, "__self__", None), bytes | str):
            scanned += len(arg.__self__)

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return scanned


def test_the_decoder_reads_each_byte_of_a_long_line_a_bounded_number_of_times() -> None:
    """Linear work: the bytes of an open line are looked at as they arrive and once more when
    the line ends, however many pieces it came in (the old decoder copied and searched the
    whole open line again on every piece: quadratic, 1.6 s of CPU for a 16 MB line)."""
    pieces, size = 1000, 1000

    def feed() -> None:
        decoder = SSEDecoder()
        for _ in range(pieces):
            decoder.feed(b"q" * size)
        decoder.feed(b"\n\n")

    assert _bytes_scanned(feed) <= 8 * pieces * size
