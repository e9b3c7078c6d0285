"""The Responses API wire: every event type openai defines is read or deliberately passed over,
the reader turns a stream into chatnb's typed events, and the mock answers ``/v1/responses``
as the official client expects (streamed, the ``stream()`` helper, ``parse``, tools, errors)."""

from __future__ import annotations

import json
import typing
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from chatnb import mock
from chatnb.errors import ChunkValidationError, StreamErrorFrame, TruncatedStreamError
from chatnb.events import (
    BuiltinToolStatus,
    ChoiceFinished,
    Citation,
    ContentDelta,
    ReasoningDelta,
    ToolCallArgumentsDelta,
    ToolCallDone,
    ToolCallStarted,
    UsageReported,
)
from chatnb.stream import SSEDecoder
from chatnb.wire import ResponsesReader, wire_for
from chatnb.wire.responses import input_items, responses_request
from chatnb.wire.responses_events import HANDLED, IGNORED

from .conftest import ClientFactory

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def _openai_event_types() -> set[str]:
    from openai.types.responses import ResponseStreamEvent

    union = typing.get_args(ResponseStreamEvent)[0]
    return {
        typing.get_args(model.model_fields["type"].annotation)[0]
        for model in typing.get_args(union)
    }


def test_every_event_type_of_the_installed_openai_is_handled_or_ignored() -> None:
    types = _openai_event_types()
    assert len(types) > 50  # the union was read, not an empty list
    unlisted = types - HANDLED - set(IGNORED)
    assert not unlisted, f"Responses events chatnb neither reads nor passes over: {unlisted}"
    assert not HANDLED & set(IGNORED)


def _read(client: openai.OpenAI, **request: Any) -> tuple[ResponsesReader, list[Any]]:
    """The mock's stream over the wire, read by chatnb's reader."""
    decoder, reader, events = SSEDecoder(), ResponsesReader(), []
    with client.responses.with_streaming_response.create(stream=True, **request) as response:
        for data in response.iter_bytes():
            for sse in decoder.feed(data):
                events += reader.frame(sse.data)
    return reader, events


def test_reader_turns_a_reasoning_answer_into_typed_events() -> None:
    client = mock.client("The answer.", reasoning="Thinking it over.", chunking="words")
    reader, events = _read(
        client, model="gpt-5-mini", input="hi", include=["reasoning.encrypted_content"], store=False
    )
    reasoning = [e for e in events if isinstance(e, ReasoningDelta)]
    assert "".join(e.text for e in reasoning) == "Thinking it over."
    assert {e.field for e in reasoning} == {"summary"}
    assert "".join(e.text for e in events if isinstance(e, ContentDelta)) == "The answer."
    assert isinstance(events[-1], ChoiceFinished) and events[-1].finish_reason == "stop"
    usage = next(e.usage for e in events if isinstance(e, UsageReported))
    assert usage.completion_tokens_details == {"reasoning_tokens": usage.completion_tokens - 3}
    message = reader.result().choices[0].message
    assert message.content == "The answer."
    (item,) = message.model_extra["reasoning_items"]  # type: ignore[index]
    assert item["type"] == "reasoning" and item["encrypted_content"].startswith("gAAAA")


def test_reasoning_items_without_encryption_are_not_kept_when_not_stored() -> None:
    client = mock.client("x", reasoning="hm")
    reader, _ = _read(client, model="gpt-5-mini", input="hi", store=False)
    assert "reasoning_items" not in (reader.result().choices[0].message.model_extra or {})
    stored, _ = _read(client, model="gpt-5-mini", input="hi", store=True)
    (item,) = stored.result().choices[0].message.model_extra["reasoning_items"]  # type: ignore[index]
    assert item["id"].startswith("rs_") and "encrypted_content" not in item


def test_reader_turns_function_calls_into_tool_call_events() -> None:
    client = mock.client(chunking="chars")
    reader, events = _read(client, model="gpt-4o-mini", input="Weather in Paris?", tools=[WEATHER])
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    done = [e for e in events if isinstance(e, ToolCallDone)]
    assert [e.name for e in started] == ["get_weather"] and len(done) == 1
    pieces = "".join(e.text for e in events if isinstance(e, ToolCallArgumentsDelta))
    assert json.loads(pieces) == json.loads(done[0].arguments)
    assert done[0].id.startswith("call_")
    result = reader.result().choices[0]
    assert result.finish_reason == "tool_calls"
    assert result.message.tool_calls and result.message.tool_calls[0].id == done[0].id


def test_whole_response_reads_as_its_stream() -> None:
    client = mock.client("Same words.", reasoning="Same thoughts.")
    streamed, events = _read(client, model="gpt-5-mini", input="hi")
    whole = ResponsesReader()
    body = client.responses.with_raw_response.create(model="gpt-5-mini", input="hi").content
    replayed = whole.whole(body)
    assert [type(e) for e in replayed] == list(dict.fromkeys(type(e) for e in events))
    assert whole.state.text == streamed.state.text == "Same words."
    assert whole.state.reasoning == streamed.state.reasoning == "Same thoughts."


def _event(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields})


def test_builtin_tools_and_citations_are_their_own_events() -> None:
    reader = ResponsesReader()
    search = {"id": "ws_1", "type": "web_search_call", "status": "in_progress"}
    done = {**search, "status": "completed", "action": {"type": "search", "query": "chatnb"}}
    note = {
        "type": "url_citation",
        "url": "https://example.com/",
        "title": "Example",
        "start_index": 0,
        "end_index": 4,
    }
    frames = [
        _event("response.created", response={"id": "resp_1", "model": "gpt-5"}),
        _event("response.output_item.added", output_index=0, item=search),
        _event("response.web_search_call.searching", output_index=0, item_id="ws_1"),
        _event("response.output_item.done", output_index=0, item=done),
        _event("response.output_text.delta", output_index=1, item_id="m", delta="Text"),
        _event("response.output_text.annotation.added", annotation=note, annotation_index=0),
        _event("response.mystery_vendor_event", whatever=1),  # a vendor's own: read past
        _event("response.completed", response={"id": "resp_1", "usage": None}),
    ]
    events = [e for frame in frames for e in reader.frame(frame)]
    statuses = [e for e in events if isinstance(e, BuiltinToolStatus)]
    assert [(s.kind, s.status) for s in statuses] == [
        ("web_search", "in_progress"),
        ("web_search", "searching"),
        ("web_search", "completed"),
    ]
    assert statuses[-1].detail == "chatnb"
    assert Citation(0, "https://example.com/", "Example", 0, 4) in events
    assert reader.result().choices[0].message.content == "Text"
    assert not reader.result().choices[0].message.tool_calls  # the server ran it, not chatnb


def test_failures_raise_plain_errors() -> None:
    with pytest.raises(StreamErrorFrame, match="overloaded"):
        ResponsesReader().frame(_event("error", code="server_error", message="overloaded"))
    failed = {"id": "r", "status": "failed", "error": {"code": "x", "message": "it broke"}}
    with pytest.raises(StreamErrorFrame, match="it broke"):
        ResponsesReader().frame(_event("response.failed", response=failed))
    with pytest.raises(ChunkValidationError, match="not JSON"):
        ResponsesReader().frame("{oops")
    with pytest.raises(ChunkValidationError, match="delta is 3"):
        ResponsesReader().frame(_event("response.output_text.delta", delta=3))
    reader = ResponsesReader()
    reader.frame(_event("response.output_text.delta", delta="half"))
    with pytest.raises(TruncatedStreamError):
        reader.result()


def test_request_translation_to_the_responses_api() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "reasoning_items": [{"type": "reasoning", "id": "rs_1", "encrypted_content": "e"}],
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
    ]
    items = input_items(messages)
    assert [i.get("type", i.get("role")) for i in items] == [
        "system",
        "user",
        "reasoning",
        "function_call",
        "function_call_output",
    ]
    sent = responses_request(
        {
            "model": "o4-mini",
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_completion_tokens": 100,
            "reasoning_effort": "low",
            "reasoning": {"summary": "auto"},
            "response_format": {"type": "json_schema", "json_schema": {"name": "X", "schema": {}}},
            "tools": [{"type": "function", "function": {"name": "w", "parameters": {}}}],
        }
    )
    assert sent["max_output_tokens"] == 100 and "stream_options" not in sent
    assert sent["reasoning"] == {"effort": "low", "summary": "auto"}
    assert sent["text"] == {"format": {"type": "json_schema", "name": "X", "schema": {}}}
    assert sent["tools"] == [{"type": "function", "name": "w", "parameters": {}}]
    assert sent["store"] is False and sent["include"] == ["reasoning.encrypted_content"]
    with pytest.raises(TypeError, match="'logprobs' is a Chat Completions option"):
        responses_request({"model": "gpt-4o", "messages": [], "logprobs": True})
    chat = wire_for("chat").request({"messages": messages})
    assert all("reasoning_items" not in m for m in chat["messages"])


# --- the official client against the mock ------------------------------------------------


def test_official_client_streams_and_reads_whole(make_client: ClientFactory) -> None:
    client = make_client("Streaming **works**.", reasoning="First, think.")
    stream = client.responses.create(model="gpt-5-mini", input="hi", stream=True)
    events = list(stream)
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    summary = "".join(e.delta for e in events if e.type == "response.reasoning_summary_text.delta")
    assert (text, summary) == ("Streaming **works**.", "First, think.")
    assert [e.sequence_number for e in events] == list(range(len(events)))
    whole = client.responses.create(model="gpt-5-mini", input="hi")
    assert whole.output_text == text and whole.usage is not None
    assert whole.usage.output_tokens_details.reasoning_tokens > 0


def test_official_stream_helper(make_client: ClientFactory) -> None:
    client = make_client("Helper text.")
    with client.responses.stream(model="gpt-4o-mini", input="hi") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "Helper text."


class City(BaseModel):
    name: str
    population: int


def test_official_parse_into_a_pydantic_model(make_client: ClientFactory) -> None:
    client = make_client("echo")
    parsed = client.responses.parse(model="gpt-4o-mini", input="A city.", text_format=City)
    assert isinstance(parsed.output_parsed, City)


def test_official_client_runs_a_function_tool_loop(make_client: ClientFactory) -> None:
    client = make_client("echo")
    first = client.responses.create(model="gpt-4o-mini", input="Weather in Paris?", tools=[WEATHER])
    (call,) = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather"
    follow_up: list[Any] = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "type": "function_call",
            "call_id": call.call_id,
            "name": call.name,
            "arguments": call.arguments,
        },
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
    ]
    second = client.responses.create(model="gpt-4o-mini", input=follow_up, tools=[WEATHER])
    assert "sunny" in second.output_text


def test_previous_response_id_carries_the_conversation(make_client: ClientFactory) -> None:
    client = make_client("echo")
    first = client.responses.create(model="gpt-4o-mini", input="first question")
    second = client.responses.create(
        model="gpt-4o-mini", input="second question", previous_response_id=first.id
    )
    assert second.output_text == "second question"
    assert second.usage is not None and first.usage is not None
    assert second.usage.input_tokens > first.usage.input_tokens  # the first turn came along
    with pytest.raises(openai.NotFoundError, match="not found"):
        client.responses.create(model="gpt-4o-mini", input="x", previous_response_id="resp_gone")


def test_errors_come_in_the_api_shape(make_client: ClientFactory) -> None:
    client = make_client()
    with pytest.raises(openai.BadRequestError) as bad:
        client.responses.create(model="gpt-4o-mini", input="x", max_output_tokens=3)
    assert bad.value.body["param"] == "max_output_tokens"  # type: ignore[index]
    failing = make_client(failure={"status": 429})
    with pytest.raises(openai.RateLimitError):
        failing.with_options(max_retries=0).responses.create(model="gpt-4o-mini", input="x")
    broken = make_client("a b c d e f", failure={"error_after": 5}, chunking="words")
    events = list(broken.responses.create(model="gpt-4o-mini", input="x", stream=True))
    assert events[-1].type == "error" and "error while streaming" in events[-1].message
    assert events[-1].sequence_number == 5


class _Notes:
    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        self.notes.append(text)


def test_sources_view_shows_builtin_tools_and_citations_under_the_answer() -> None:
    from chatnb.display.sources_view import SourcesView

    sink = _Notes()
    view = SourcesView(sink)  # type: ignore[arg-type]
    view.handle(BuiltinToolStatus(0, "ws_1", "web_search", "in_progress"))
    view.handle(BuiltinToolStatus(0, "ws_1", "web_search", "completed", "chatnb docs"))
    view.handle(Citation(0, "https://example.com/a", "A <b>", 0, 3))
    view.handle(Citation(0, "https://example.com/a", "A <b>", 5, 9))  # the same source again
    assert sink.notes == []  # nothing moves the answer while it streams
    view.close()
    assert sink.notes == [
        "(web search (chatnb docs): completed)\n[1] A <b> <https://example.com/a>"
    ]


def test_the_mock_answers_web_search_with_its_status_and_a_citation(
    make_client: ClientFactory,
) -> None:
    client = make_client("Open Responses is hosted by the Linux Foundation.")
    search = [{"type": "web_search"}]
    with client.responses.stream(model="gpt-5-mini", input="Who?", tools=search) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    searching = [k for k in kinds if k.startswith("response.web_search_call.")]
    assert searching == [f"response.web_search_call.{s}" for s in _SEARCH_STATUSES]
    assert "response.output_text.annotation.added" in kinds
    call, message = final.output
    assert call.type == "web_search_call" and call.action.query == "Who?"  # type: ignore[union-attr]
    (note,) = message.content[0].annotations  # type: ignore[union-attr]
    assert note.type == "url_citation" and note.url == "https://example.org/chatnb-mock/who"
    whole = client.responses.create(model="gpt-5-mini", input="Who?", tools=search)
    assert [item.type for item in whole.output] == ["web_search_call", "message"]


_SEARCH_STATUSES = ("in_progress", "searching", "completed")


def test_a_chatbot_passes_builtin_tools_and_shows_what_the_server_did(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from chatnb import Chatbot

    bot = Chatbot.mock("Hosted by the Linux Foundation.", api="responses")
    answer = bot.ask("Who maintains Open Responses?", tools=[{"type": "web_search"}])
    assert answer == "Hosted by the Linux Foundation."
    shown = capsys.readouterr().out
    assert "(web search (Who maintains Open Responses?): completed)" in shown
    assert "<https://example.org/chatnb-mock/who-maintains-open-responses>" in shown
    assert bot.ask("And since when?") == "Hosted by the Linux Foundation."  # the History holds


def test_builtin_tools_outside_the_responses_api_and_bad_definitions_are_refused_in_words() -> None:
    from chatnb import Chatbot
    from chatnb.errors import ArgumentError

    bot = Chatbot.mock("x", display=False)
    with pytest.raises(ArgumentError, match=r'only the Responses API has: use .*api="responses"'):
        bot.ask("q", tools=[{"type": "web_search"}])
    with pytest.raises(ArgumentError, match="a tool definition is"):
        bot.ask("q", tools=[{"type": "function", "name": "f"}])
    assert len(bot.history) == 0 and bot.ask("q") == "x"


def test_builtin_tools_given_to_the_chatbot_stay_through_copies(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from chatnb import Chatbot

    bot = Chatbot.mock("Hosted.", api="responses", tools=[{"type": "web_search"}])
    bot.copy().ask("Who hosts it?")
    assert "(web search (Who hosts it?): completed)" in capsys.readouterr().out
