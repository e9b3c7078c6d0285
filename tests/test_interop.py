"""Other clients against ``chatnb serve``: LangChain's ``bind_tools`` / ``with_structured_output``
and litellm, offline on the mock's HTTP front.

Both pin ``openai<3``, so they are in the ``interop`` extra, which CI installs for its openai
2.x run; in an environment without them these tests are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from chatnb.mock import MockServer


class City(BaseModel):
    name: str
    population: int
    landmarks: list[str]


def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"sunny in {city}"


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


def test_langchain_binds_tools_and_gets_structured_output(server: MockServer) -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    llm = langchain_openai.ChatOpenAI(model="gpt-4o", base_url=server.url, api_key="sk-local")
    message = llm.bind_tools([get_weather]).invoke("What is the weather in Paris?")
    assert [call["name"] for call in message.tool_calls] == ["get_weather"]
    assert isinstance(message.tool_calls[0]["args"]["city"], str)
    for method in ("json_schema", "function_calling"):
        city = llm.with_structured_output(City, method=method).invoke("A city, please.")
        assert isinstance(city, City) and city.landmarks
    chunks: list[Any] = list(llm.bind_tools([get_weather]).stream("The weather?"))
    whole = chunks[0]
    for chunk in chunks[1:]:
        whole = whole + chunk
    assert [call["name"] for call in whole.tool_calls] == ["get_weather"]


def test_litellm_calls_tools_and_fills_a_schema(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # litellm fetches its price list from GitHub unless told to use its bundled copy.
    monkeypatch.setitem(os.environ, "LITELLM_LOCAL_MODEL_COST_MAP", "True")
    litellm = pytest.importorskip("litellm")
    settings = {"model": "openai/gpt-4o", "api_base": server.url, "api_key": "sk-local"}
    question = [{"role": "user", "content": "What is the weather in Paris?"}]
    answer = litellm.completion(messages=question, tools=[WEATHER], **settings)
    assert answer.choices[0].finish_reason == "tool_calls"
    assert answer.choices[0].message.tool_calls[0].function.name == "get_weather"
    stream = litellm.completion(messages=question, tools=[WEATHER], stream=True, **settings)
    built = litellm.stream_chunk_builder(list(stream))
    assert built.choices[0].message.tool_calls[0].function.name == "get_weather"
    structured = litellm.completion(messages=question, response_format=City, **settings)
    assert City.model_validate_json(structured.choices[0].message.content)
