"""The mock honours tools and structured output, through the real openai client on both fronts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

import openai
import pytest
from pydantic import BaseModel, Field

from chatnb.mock import ToolCall
from chatnb.mock.instances import instance

from .conftest import ClientFactory, chatnb_serve

QUESTION = [{"role": "user", "content": "What is the weather in Paris, and the local time?"}]


class Weather(BaseModel):
    city: str
    units: Literal["celsius", "fahrenheit"]
    days: Annotated[int, Field(ge=1, le=7)]


class Time(BaseModel):
    timezone: str


class Stop(BaseModel):
    name: str
    minutes: Annotated[int, Field(ge=5, multiple_of=5)]


class Trip(BaseModel):
    title: str
    kind: Literal["city", "nature"]
    start: datetime
    stops: Annotated[list[Stop], Field(min_length=2)]
    budget: Annotated[float, Field(gt=100, le=1_000)]
    note: str | None
    tags: dict[str, int]


def _tools(*models: type[BaseModel]) -> list[Any]:
    return [openai.pydantic_function_tool(m, name=f"get_{m.__name__.lower()}") for m in models]


def test_required_tools_are_called_with_arguments_valid_against_the_schema(
    make_client: ClientFactory,
) -> None:
    client = make_client("echo")
    answer = client.chat.completions.create(
        model="gpt-4o", messages=QUESTION, tools=_tools(Weather, Time), tool_choice="required"
    )  # type: ignore[call-overload]
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    calls = choice.message.tool_calls or []
    # The question mentions both tools: parallel calls, each valid against its own schema.
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert Weather.model_validate_json(calls[0].function.arguments)
    assert Time.model_validate_json(calls[1].function.arguments)
    assert len({c.id for c in calls}) == 2 and all(c.id.startswith("call_") for c in calls)


def test_streamed_arguments_come_in_fragments_as_the_api_sends_them(
    make_client: ClientFactory,
) -> None:
    client = make_client("echo")
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=QUESTION,
        tools=_tools(Weather, Time),
        parallel_tool_calls=False,
        stream=True,
    )  # type: ignore[call-overload]
    chunks = [c for c in stream if c.choices]
    first = chunks[0].choices[0].delta
    # As the API: the role, a null content and the call's start ride on the first chunk.
    assert first.role == "assistant" and first.content is None
    assert first.tool_calls and first.tool_calls[0].function.arguments == ""  # type: ignore[union-attr]
    fragments = [
        c.choices[0].delta.tool_calls[0].function.arguments  # type: ignore[index, union-attr]
        for c in chunks[1:]
        if c.choices[0].delta.tool_calls
    ]
    assert len(fragments) > 3 and Weather.model_validate_json("".join(fragments))  # type: ignore[arg-type]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_the_stream_helper_assembles_the_calls(make_client: ClientFactory) -> None:
    client = make_client("echo")
    with client.chat.completions.stream(
        model="gpt-4o", messages=QUESTION, tools=_tools(Weather, Time)
    ) as stream:  # type: ignore[arg-type]
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    assert [type(c.function.parsed_arguments) for c in calls] == [Weather, Time]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        ({"type": "function", "function": {"name": "get_time"}}, None, ["get_time"]),
        ("auto", False, ["get_weather"]),
        ("none", None, []),
    ],
)
def test_tool_choice_and_parallel_calls_are_honoured(
    make_client: ClientFactory, choice: Any, parallel: bool | None, expected: list[str]
) -> None:
    client = make_client("echo")
    extra = {} if parallel is None else {"parallel_tool_calls": parallel}
    answer = client.chat.completions.create(
        model="gpt-4o",
        messages=QUESTION,
        tools=_tools(Weather, Time),
        tool_choice=choice,
        **extra,
    )  # type: ignore[call-overload]
    calls = answer.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == expected
    if not expected:
        assert answer.choices[0].message.content == QUESTION[0]["content"]


def test_scripted_calls_and_an_answer_that_uses_the_results(make_client: ClientFactory) -> None:
    script = [ToolCall("get_weather", {"city": "Paris", "units": "celsius", "days": 2})]
    client = make_client(script)
    first = client.chat.completions.create(model="gpt-4o", messages=QUESTION, tools=_tools(Weather))  # type: ignore[call-overload]
    (call,) = first.choices[0].message.tool_calls or []
    assert json.loads(call.function.arguments) == {"city": "Paris", "units": "celsius", "days": 2}
    messages = [
        *QUESTION,
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 21}'},
    ]
    echo = make_client("echo")  # the echo answers from the results once the request carries them
    final = echo.chat.completions.create(model="gpt-4o", messages=messages, tools=_tools(Weather))  # type: ignore[arg-type]
    assert final.choices[0].finish_reason == "stop"
    assert '{"temp_c": 21}' in (final.choices[0].message.content or "")


def test_a_history_with_an_unanswered_call_is_refused_as_the_api_refuses_it(
    make_client: ClientFactory,
) -> None:
    client = make_client("echo")
    first = client.chat.completions.create(
        model="gpt-4o", messages=QUESTION, tools=_tools(Weather, Time), tool_choice="required"
    )  # type: ignore[call-overload]
    message = first.choices[0].message.model_dump(exclude_none=True)
    ids = [c.id for c in first.choices[0].message.tool_calls or []]
    one_result = {"role": "tool", "tool_call_id": ids[0], "content": "ok"}
    with pytest.raises(openai.BadRequestError, match=ids[1]) as refused:
        client.chat.completions.create(
            model="gpt-4o",
            messages=[*QUESTION, message, one_result, {"role": "user", "content": "And?"}],
        )  # type: ignore[arg-type]
    assert refused.value.body["param"] == "messages.[1].role"  # type: ignore[index]
    orphan = {"role": "tool", "tool_call_id": "call_nobody", "content": "ok"}
    with pytest.raises(openai.BadRequestError, match="must be a response to a preceeding"):
        client.chat.completions.create(model="gpt-4o", messages=[*QUESTION, orphan])  # type: ignore[arg-type]


def test_parse_returns_a_valid_model(make_client: ClientFactory) -> None:
    client = make_client("echo")
    parsed = client.chat.completions.parse(model="gpt-4o", messages=QUESTION, response_format=Trip)  # type: ignore[arg-type]
    trip = parsed.choices[0].message.parsed
    assert isinstance(trip, Trip) and len(trip.stops) >= 2 and 100 < trip.budget <= 1_000
    assert all(stop.minutes % 5 == 0 and stop.minutes >= 5 for stop in trip.stops)


def test_the_stream_helper_sees_parsed_snapshots(make_client: ClientFactory) -> None:
    client = make_client("echo")
    snapshots = []
    with client.chat.completions.stream(
        model="gpt-4o", messages=QUESTION, response_format=Trip
    ) as stream:  # type: ignore[arg-type]
        for event in stream:
            if event.type == "content.delta" and event.parsed is not None:
                snapshots.append(event.parsed)
        final = stream.get_final_completion()
    assert len(snapshots) > 5 and isinstance(final.choices[0].message.parsed, Trip)


def test_json_object_answers_are_json_objects(make_client: ClientFactory) -> None:
    client = make_client("echo")
    answer = client.chat.completions.create(
        model="gpt-4o", messages=QUESTION, response_format={"type": "json_object"}
    )  # type: ignore[call-overload]
    assert json.loads(answer.choices[0].message.content or "") == {"answer": QUESTION[0]["content"]}


class Node(BaseModel):
    label: str
    children: list[Node]


class Shapes(BaseModel):
    flag: bool
    ratio: Annotated[float, Field(ge=0.25, lt=0.5)]
    code: Annotated[str, Field(min_length=8, max_length=10)]
    when: datetime
    pair: tuple[int, str]
    unique: Annotated[set[str], Field(min_length=3)]
    either: int | str
    nested: Node
    fixed: Literal["only"]


@pytest.mark.parametrize("model", [Weather, Trip, Node, Shapes])
def test_generated_documents_validate_against_their_model(model: type[BaseModel]) -> None:
    from openai.lib._pydantic import to_strict_json_schema

    for schema in (model.model_json_schema(), to_strict_json_schema(model)):
        value = instance(schema)
        assert model.model_validate(value)
        assert instance(schema) == value  # deterministic


@pytest.fixture
def served() -> Iterator[str]:
    with chatnb_serve() as url:
        yield url


def test_chatnb_serve_calls_tools_and_fills_a_schema(served: str) -> None:
    client = openai.OpenAI(base_url=served, api_key="unused")
    answer = client.chat.completions.create(
        model="gpt-4o", messages=QUESTION, tools=_tools(Weather), tool_choice="required"
    )  # type: ignore[call-overload]
    assert answer.choices[0].finish_reason == "tool_calls"
    (call,) = answer.choices[0].message.tool_calls or []
    assert Weather.model_validate_json(call.function.arguments)
    parsed = client.chat.completions.parse(model="gpt-4o", messages=QUESTION, response_format=Trip)  # type: ignore[arg-type]
    assert isinstance(parsed.choices[0].message.parsed, Trip)
