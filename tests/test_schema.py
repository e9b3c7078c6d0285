"""The wire-format models against real recordings, the official openai types, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai.types.chat as oai
import pytest
from openai.types import CompletionUsage
from openai.types.shared import ErrorObject
from pydantic import TypeAdapter, ValidationError

from chatnb.errors import ChunkValidationError, StreamErrorFrame
from chatnb.schema import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatMessage,
    ErrorResponse,
    to_json,
)
from chatnb.stream import parse_chunk

from .conftest import RECORDINGS, recording_frames


def test_there_are_twelve_recordings() -> None:
    assert len(RECORDINGS) == 12


def test_every_recorded_frame_validates_and_dumps_back_byte_for_byte(recording: Path) -> None:
    frames = recording_frames(recording)
    assert frames
    for frame in frames:
        chunk = parse_chunk(frame)
        assert isinstance(chunk, ChatCompletionChunk)
        assert to_json(chunk) == frame


def test_every_recorded_frame_round_trips_through_the_official_types_in_strict_mode(
    recording: Path,
) -> None:
    for frame in recording_frames(recording):
        ours = to_json(parse_chunk(frame))
        theirs = oai.ChatCompletionChunk.model_validate_json(ours, strict=True)
        assert theirs.id == json.loads(frame)["id"]


def test_a_request_dumps_to_what_the_official_params_accept() -> None:
    request = ChatCompletionRequest.model_validate(
        {
            "model": "gpt-4o",
            "messages": [
                {"role": "developer", "content": "Be brief."},
                {"role": "user", "content": "Weather?", "name": "ada"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                        }
                    ],
                },
                {"role": "tool", "content": "sunny", "tool_call_id": "call_1"},
            ],
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": 0.7,
            "top_p": 1,
            "n": 2,
            "stop": ["\n\n"],
            "max_completion_tokens": 100,
            "seed": 7,
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
            "tool_choice": "auto",
        }
    )
    adapter = TypeAdapter(oai.completion_create_params.CompletionCreateParamsStreaming)
    adapter.validate_python(json.loads(to_json(request)), strict=True)


def test_accumulated_response_and_usage_and_error_round_trip_through_official_types() -> None:
    from chatnb.stream import StreamAccumulator

    for path in RECORDINGS:
        acc = StreamAccumulator()
        for frame in recording_frames(path):
            acc.add(parse_chunk(frame))
        response = acc.result()
        oai.ChatCompletion.model_validate_json(to_json(response), strict=True)
        assert response.usage is not None
        CompletionUsage.model_validate_json(to_json(response.usage), strict=True)
    error = ErrorResponse.model_validate(
        {"error": {"message": "no", "type": "invalid_request_error", "param": "x", "code": "bad"}}
    )
    ErrorObject.model_validate_json(to_json(error.error), strict=True)


# --- requests -----------------------------------------------------------------------------


def _request(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], **fields}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", 2.5),
        ("temperature", -0.1),
        ("top_p", 1.5),
        ("n", 0),
        ("presence_penalty", 3),
        ("frequency_penalty", -2.5),
        ("max_tokens", 0),
        ("top_logprobs", 21),
        ("stop", ["a", "b", "c", "d", "e"]),
        ("repetition_penalty", 0),
        ("top_k", -2),
        ("temperature", "0.5"),
    ],
)
def test_request_ranges_are_enforced(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as error:
        ChatCompletionRequest.model_validate(_request(**{field: value}))
    assert error.value.errors()[0]["loc"][0] == field


def test_stream_options_without_stream_is_rejected() -> None:
    with pytest.raises(ValidationError, match="stream_options is only allowed"):
        ChatCompletionRequest.model_validate(_request(stream_options={"include_usage": True}))


def test_request_keeps_vendor_fields_and_accepts_vllm_knobs() -> None:
    request = ChatCompletionRequest.model_validate(
        _request(top_k=40, repetition_penalty=1.1, min_p=0.05, temperature=1)
    )
    assert request.top_k == 40
    assert request.model_extra == {"min_p": 0.05}
    assert json.loads(to_json(request))["min_p"] == 0.05


def test_output_limit_prefers_max_completion_tokens() -> None:
    assert ChatCompletionRequest.model_validate(_request(max_tokens=5)).output_limit == 5
    both = ChatCompletionRequest.model_validate(_request(max_tokens=5, max_completion_tokens=9))
    assert both.output_limit == 9


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ({"role": "user"}, "needs content"),
        ({"role": "user", "content": None}, "needs content"),
        ({"role": "assistant", "content": None}, "needs content, tool_calls or a refusal"),
        ({"role": "tool", "content": "42"}, "tool_call_id"),
        ({"role": "robot", "content": "hi"}, "role"),
        (
            {
                "role": "user",
                "content": "x",
                "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            "only assistant",
        ),
    ],
)
def test_message_rules(message: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        ChatMessage.model_validate(message)


def test_message_accepts_content_parts_and_null_assistant_content_with_refusal() -> None:
    parts = ChatMessage.model_validate(
        {"role": "user", "content": [{"type": "text", "text": "look"}]}
    )
    assert isinstance(parts.content, list)
    assert ChatMessage(role="assistant", content=None, refusal="no").refusal == "no"


@pytest.mark.parametrize("code", ["context_length_exceeded", 400, None])
def test_error_response_accepts_string_or_integer_code(code: object) -> None:
    body = ErrorResponse.model_validate(
        {"error": {"message": "boom", "type": "BadRequestError", "param": None, "code": code}}
    )
    assert body.error.code == code


# --- malformed chunks ---------------------------------------------------------------------

GOOD = json.loads(recording_frames(RECORDINGS[0])[1])


def _mutated(**changes: Any) -> str:
    chunk = json.loads(json.dumps(GOOD))
    for path, value in changes.items():
        target = chunk
        *parents, last = path.split("__")
        for key in parents:
            target = target[int(key) if key.isdigit() else key]
        if value is KeyError:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return json.dumps(chunk)


@pytest.mark.parametrize(
    ("frame", "names"),
    [
        (_mutated(choices=KeyError), ["choices", "Field required"]),
        (_mutated(object="chat.completion"), ["object", "chat.completion.chunk"]),
        (_mutated(object="chat.completions.chunk"), ["object", "'chat.completion.chunk'"]),
        (_mutated(choices__0__finish_reason="abort"), ["choices.0.finish_reason", "'abort'"]),
        (_mutated(choices__0__index="0"), ["choices.0.index", "valid integer"]),
        ("this is not json", ["not JSON"]),
        ("", ["empty data frame"]),
        ("   ", ["empty data frame"]),
        ("[1, 2]", ["object"]),
    ],
)
def test_malformed_chunks_raise_readable_errors(frame: str, names: list[str]) -> None:
    with pytest.raises(ChunkValidationError) as error:
        parse_chunk(frame)
    message = str(error.value)
    for name in names:
        assert name in message
    if frame.strip():
        assert "Raw frame:" in message
    assert error.value.raw == frame


def test_raw_frame_is_shortened_in_the_message() -> None:
    frame = _mutated(choices__0__index="0", padding="x" * 5000)
    with pytest.raises(ChunkValidationError) as error:
        parse_chunk(frame)
    assert len(str(error.value)) < 800
    assert "more characters" in str(error.value)


def test_an_error_object_in_the_stream_is_reported_as_such() -> None:
    frame = json.dumps({"error": {"message": "overloaded", "type": "server_error", "code": 503}})
    with pytest.raises(StreamErrorFrame, match="overloaded") as error:
        parse_chunk(frame)
    assert error.value.code == 503
