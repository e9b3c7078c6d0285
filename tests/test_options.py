"""Every Chat Completions option passes, exactly as given; the set comes from the installed
openai library's own types, so it never falls behind; misspellings still get a suggestion."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai.types.chat import completion_create_params

from chatnb import Chatbot
from chatnb.errors import StructuredOutputError
from chatnb.options import CLIENT_OPTIONS, known_options
from chatnb.schema import ChatCompletionRequest

from .conftest import RECORDINGS
from .servers import RecordingServer

PLAIN = next(p for p in RECORDINGS if p.name.startswith("e2aad469")).read_bytes()
OPTIONS: dict[str, Any] = {
    "reasoning_effort": "low",
    "response_format": {"type": "json_object"},
    "seed": 1,
    "logit_bias": {"1": -100},
    "service_tier": "auto",
}


def test_the_options_are_sent_exactly_as_given() -> None:
    with RecordingServer(PLAIN) as server:
        client = openai.OpenAI(base_url=server.url, api_key="sk-local", max_retries=0)
        bot = Chatbot("gpt-4o", client=client, display=False, **OPTIONS)
        # The server answers in plain text: not the JSON that response_format asked for.
        with pytest.raises(StructuredOutputError, match="not JSON"):
            bot.ask("Answer in JSON.", parallel_tool_calls=False, verbosity="low")
    body = json.loads(server.requests[0].body)
    chatbot_sets = {"model", "messages", "stream", "stream_options"}
    assert set(body) == chatbot_sets | set(OPTIONS) | {"parallel_tool_calls", "verbosity"}
    assert {name: body[name] for name in OPTIONS} == OPTIONS
    assert (body["parallel_tool_calls"], body["verbosity"]) == (False, "low")


def test_every_field_of_the_installed_openai_request_is_accepted() -> None:
    fields = set(completion_create_params.CompletionCreateParamsBase.__annotations__)
    assert fields <= known_options()
    assert known_options() >= CLIENT_OPTIONS


def test_the_schema_types_the_newer_options() -> None:
    request = ChatCompletionRequest.model_validate(
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], **OPTIONS}
    )
    assert request.reasoning_effort == "low" and request.response_format is not None
    for invalid in [
        {"reasoning_effort": "extreme"},
        {"logit_bias": {"1": -101}},
        {"service_tier": "cheapest"},
        {"response_format": {"type": "yaml"}},
    ]:
        with pytest.raises(ValueError):
            ChatCompletionRequest.model_validate(
                {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], **invalid}
            )


def test_a_misspelled_option_still_gets_a_suggestion() -> None:
    with pytest.raises(TypeError, match="Did you mean 'reasoning_effort'"):
        Chatbot.mock(reasoning_efort="low")
    with pytest.raises(TypeError, match="set by the Chatbot"):
        Chatbot.mock(messages=[])
