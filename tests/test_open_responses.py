"""The mock's ``/v1/responses`` against the Open Responses specification (openresponses.org).

The spec's own acceptance suite (``bin/compliance-test.ts`` in openresponses/openresponses) is a
Bun script built on zod schemas generated in that repository; neither can be had here offline,
so this file does what it does, in Python, against ``chatnb serve``: the same six requests
(basic, streaming, system prompt, tool calling streamed and not, image input, multi-turn), the
same semantic checks (output present, status completed, function-call events present), and a
schema check of every object and event. The schema check is by openai's own pydantic types
(strict) plus the fields the spec requires where openai's types leave them optional; those
lists were read from the spec's component schemas (``ResponseResource``,
``OutputTextContent``, ``ResponseOutputTextDeltaStreamingEvent``) and are written out here,
not copied (no licence file could be found for that repository).

One deliberate difference: the spec nests a stream's ``error`` event's fields under ``error``;
the mock sends them at the top as OpenAI does, since openai's clients raise ``APIError`` on the
nested form instead of yielding the event (see :func:`chatnb.mock.responses.error_frame`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pydantic
import pytest
from openai.types.responses import Response, ResponseStreamEvent

from chatnb.mock import MockServer

from .conftest import chatnb_serve

#: Fields every response object must carry (the spec's ``ResponseResource`` "required").
RESPONSE_REQUIRED = frozenset(
    {
        "id", "object", "created_at", "completed_at", "status", "incomplete_details", "model",
        "previous_response_id", "instructions", "output", "error", "tools", "tool_choice",
        "truncation", "parallel_tool_calls", "text", "top_p", "presence_penalty",
        "frequency_penalty", "top_logprobs", "temperature", "reasoning", "user", "usage",
        "max_output_tokens", "max_tool_calls", "store", "background", "service_tier",
        "metadata", "safety_identifier", "prompt_cache_key",
    }
)  # fmt: skip

#: Fields the spec requires of some events beyond what openai's types require.
EVENT_REQUIRED: dict[str, frozenset[str]] = {
    "response.output_text.delta": frozenset(
        {"item_id", "output_index", "content_index", "delta", "logprobs"}
    ),
}

#: The event types the spec's suite validates a stream against (its ``streamingEventSchema``);
#: web search status events are the API's, outside the spec's core, and checked by openai's types.
SPEC_EVENT_TYPES = frozenset(
    {
        "response.created", "response.queued", "response.in_progress", "response.completed",
        "response.failed", "response.incomplete", "response.output_item.added",
        "response.output_item.done", "response.content_part.added", "response.content_part.done",
        "response.output_text.delta", "response.output_text.done", "response.refusal.delta",
        "response.refusal.done", "response.function_call_arguments.delta",
        "response.function_call_arguments.done", "response.reasoning_summary_part.added",
        "response.reasoning_summary_part.done", "response.reasoning_text.delta",
        "response.reasoning_text.done", "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done", "response.output_text.annotation.added", "error",
    }
)  # fmt: skip

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a location",
    "parameters": {
        "type": "object",
        "properties": {"location": {"type": "string", "description": "The city and state"}},
        "required": ["location"],
    },
}

_EVENTS: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ResponseStreamEvent)


def _user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": text}


def _response_problems(body: dict[str, Any]) -> list[str]:
    """What keeps ``body`` from being a spec response object (empty when it is one)."""
    problems = [f"missing {key}" for key in sorted(RESPONSE_REQUIRED - body.keys())]
    try:
        Response.model_validate(body, strict=True)
    except pydantic.ValidationError as error:
        problems.append(str(error))
    for item in body.get("output", []):
        for part in item.get("content", []) if item.get("type") == "message" else []:
            if part.get("type") == "output_text" and "logprobs" not in part:
                problems.append("output_text without logprobs")
    return problems


def _event_problems(event: dict[str, Any]) -> list[str]:
    kind = event.get("type", "")
    problems = [
        f"{kind}: missing {k}" for k in EVENT_REQUIRED.get(kind, frozenset()) - event.keys()
    ]
    if not isinstance(event.get("sequence_number"), int):
        problems.append(f"{kind}: no sequence_number")
    try:
        _EVENTS.validate_python(event)
    except pydantic.ValidationError as error:
        problems.append(f"{kind}: {error}")
    if "response" in event:
        problems += [f"{kind}: {p}" for p in _response_problems(event["response"])]
    return problems


def _sse(lines: Iterator[str]) -> list[dict[str, Any]]:
    """Events as the spec's suite reads them: ``event:``/``data:`` lines, a blank line ends one."""
    events: list[dict[str, Any]] = []
    named, data = "", ""
    for line in lines:
        if line.startswith("event:"):
            named = line[6:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()
        elif line == "" and data:
            event = json.loads(data)
            assert named in ("", event["type"]), "the event: line names another type"
            events.append(event)
            named, data = "", ""
    return events


def _post(base: str, body: dict[str, Any]) -> tuple[int, Any]:
    """POST ``/responses`` as the suite does; the JSON body, or the stream's events."""
    headers = {"Authorization": "Bearer test-key"}
    with httpx.stream("POST", f"{base}/responses", json=body, headers=headers, timeout=30) as r:
        if body.get("stream") and r.status_code == 200:
            assert r.headers["content-type"].startswith("text/event-stream")
            return r.status_code, _sse(r.iter_lines())
        r.read()
        return r.status_code, r.json()


def _stream_problems(events: list[dict[str, Any]]) -> list[str]:
    """Schema and order: numbered from 0, created first, one terminal event, items balanced."""
    problems = [p for event in events for p in _event_problems(event)]
    numbers = [event["sequence_number"] for event in events]
    if numbers != list(range(len(events))):
        problems.append(f"sequence numbers {numbers}")
    kinds = [event["type"] for event in events]
    if kinds[:2] != ["response.created", "response.in_progress"]:
        problems.append(f"starts with {kinds[:2]}")
    opened = [e["output_index"] for e in events if e["type"] == "response.output_item.added"]
    closed = [e["output_index"] for e in events if e["type"] == "response.output_item.done"]
    if opened != closed or opened != list(range(len(opened))):
        problems.append(f"items opened {opened}, closed {closed}")
    return problems


def _final(events: list[dict[str, Any]]) -> dict[str, Any]:
    (last,) = [e for e in events if e["type"] in ("response.completed", "response.incomplete")]
    assert last is events[-1]
    response: dict[str, Any] = last["response"]
    return response


# The spec's acceptance suite, its six requests and its checks, against ``chatnb serve``.

_IMAGE = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

SUITE: dict[str, dict[str, Any]] = {
    "basic-response": {"input": [_user("Say hello in exactly 3 words.")]},
    "streaming-response": {"input": [_user("Count from 1 to 5.")], "stream": True},
    "system-prompt": {
        "input": [
            {"type": "message", "role": "system", "content": "You are a pirate."},
            _user("Say hello."),
        ]
    },
    "tool-calling": {
        "input": [_user("What's the weather like in San Francisco?")],
        "tools": [WEATHER],
    },
    "tool-calling-streaming": {
        "input": [_user("What's the weather like in San Francisco?")],
        "tools": [WEATHER],
        "stream": True,
    },
    "image-input": {
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What do you see in this image?"},
                    {"type": "input_image", "image_url": _IMAGE},
                ],
            }
        ]
    },
    "multi-turn": {
        "input": [
            _user("My name is Alice."),
            {"type": "message", "role": "assistant", "content": "Hello Alice!"},
            _user("What is my name?"),
        ]
    },
}


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    with chatnb_serve() as url:
        yield url


@pytest.mark.parametrize("name", SUITE)
def test_the_spec_acceptance_suite_passes_against_chatnb_serve(served: str, name: str) -> None:
    body = {"model": "gpt-4o-mini", "stream": False, **SUITE[name]}
    status, got = _post(served, body)
    assert status == 200, got
    if body["stream"]:
        assert got, "no streaming events"
        assert _stream_problems(got) == []
        assert {e["type"] for e in got} <= SPEC_EVENT_TYPES
        got = _final(got)
    assert _response_problems(got) == []
    assert got["output"], "no output items"
    if name.startswith("tool-calling"):
        assert "function_call" in [item["type"] for item in got["output"]]
    else:
        assert got["status"] == "completed"


def test_a_streamed_tool_call_has_the_events_the_suite_asks_for(served: str) -> None:
    body = {"model": "gpt-4o-mini", **SUITE["tool-calling-streaming"]}
    _, events = _post(served, body)
    kinds = [e["type"] for e in events]
    assert "response.function_call_arguments.delta" in kinds
    assert "response.function_call_arguments.done" in kinds
    for kind in ("response.output_item.added", "response.output_item.done"):
        items = [e["item"]["type"] for e in events if e["type"] == kind]
        assert "function_call" in items


# Every answer kind of the mock, streamed and whole, against the schema.

KINDS: dict[str, tuple[dict[str, Any], dict[str, Any], list[str]]] = {
    "text": ({}, {}, ["message"]),
    "reasoning summary": (
        {"reasoning": "First I add, then I check."},
        {},
        ["reasoning", "message"],
    ),
    "function call": ({"reply": "echo"}, {"tools": [WEATHER]}, ["function_call"]),
    "web search citation": (
        {},
        {"tools": [{"type": "web_search"}]},
        ["web_search_call", "message"],
    ),
    "incomplete": ({"reply": "word " * 60}, {"max_output_tokens": 16}, ["message"]),
}


@pytest.fixture(params=list(KINDS), ids=list(KINDS))
def kind(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, Any], list[str]]]:
    options, body, items = KINDS[request.param]
    settings = {"reply": "A short answer, cited.", **options}
    with MockServer(**settings) as server:
        yield server.url, {"model": "gpt-5-mini", "input": "Weather in Paris?", **body}, items


def test_every_answer_kind_streams_as_the_spec_says(
    kind: tuple[str, dict[str, Any], list[str]],
) -> None:
    url, body, items = kind
    status, events = _post(url, {**body, "stream": True})
    assert status == 200
    assert _stream_problems(events) == []
    final = _final(events)
    assert _response_problems(final) == []
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert done == final["output"]  # the final object holds exactly the items the stream closed
    assert [item["type"] for item in done] == items


def test_every_answer_kind_answers_whole_as_the_spec_says(
    kind: tuple[str, dict[str, Any], list[str]],
) -> None:
    url, body, items = kind
    status, whole = _post(url, body)
    assert status == 200
    assert _response_problems(whole) == []
    assert [item["type"] for item in whole["output"]] == items
    if body.get("max_output_tokens"):
        assert whole["status"] == "incomplete" and whole["completed_at"] is None
        assert whole["incomplete_details"] == {"reason": "max_output_tokens"}
    else:
        assert whole["status"] == "completed" and isinstance(whole["completed_at"], int)


def test_a_stream_that_fails_ends_with_an_error_event_in_openai_shape() -> None:
    with MockServer("a b c d e f", failure={"error_after": 5}, chunking="words") as server:
        body = {"model": "gpt-4o-mini", "input": "x", "stream": True}
        _, events = _post(server.url, body)
    last = events[-1]
    assert last["type"] == "error" and _event_problems(last) == []
    assert "error" not in last and "error while streaming" in last["message"]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


def test_a_refused_request_gets_an_error_object() -> None:
    with MockServer() as server:
        status, body = _post(
            server.url, {"model": "gpt-4o-mini", "input": "x", "max_output_tokens": 3}
        )
    assert status == 400
    assert {"message", "type", "param", "code"} <= body["error"].keys()
    assert body["error"]["param"] == "max_output_tokens"


def test_settings_the_spec_requires_are_echoed() -> None:
    with MockServer() as server:
        body = {
            "model": "m",
            "input": "x",
            "presence_penalty": 0.5,
            "user": "u-1",
            "top_logprobs": 2,
        }
        _, whole = _post(server.url, body)
    assert (whole["presence_penalty"], whole["user"], whole["top_logprobs"]) == (0.5, "u-1", 2)
    assert whole["background"] is False and whole["frequency_penalty"] == 0.0
