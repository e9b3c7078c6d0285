"""The Chatbot's two clients agree on everything, checked on a real server; tool definitions
count against the prompt budget."""

from __future__ import annotations

import asyncio
import json

import httpx2
import openai
import pytest

from chatnb import Chatbot, mock
from chatnb.clients import Clients, ClientSpec
from chatnb.errors import ChatnbError, ContextBudgetError

from .conftest import RECORDINGS
from .servers import RecordingServer

SECRET = "sk-test-secret-0123456789abcdef"
PLAIN = next(p for p in RECORDINGS if p.name.startswith("e2aad469")).read_bytes()


def test_the_async_twin_of_a_sync_client_keeps_headers_query_and_options() -> None:
    with RecordingServer(PLAIN) as server:
        client = openai.OpenAI(
            base_url=server.url,
            api_key=SECRET,
            organization="org-chatnb",
            project="proj-chatnb",
            default_headers={"X-Proxy-Token": "proxy-1"},
            default_query={"tenant": "t1"},
            timeout=7.5,
            max_retries=0,
        )
        bot = Chatbot(client=client, display=False)
        bot.ask("sync")
        asyncio.run(bot.aask("async"))
    sync_seen, async_seen = server.requests
    for seen in (sync_seen, async_seen):
        assert seen.headers["x-proxy-token"] == "proxy-1"
        assert seen.headers["authorization"] == f"Bearer {SECRET}"
        assert seen.headers["openai-organization"] == "org-chatnb"
        assert seen.headers["openai-project"] == "proj-chatnb"
        assert seen.path == "/v1/chat/completions?tenant=t1"
    assert json.loads(async_seen.body)["messages"][-1]["content"] == "async"
    twin = bot.async_client
    assert (twin.timeout, twin.max_retries) == (7.5, 0)


def test_a_client_with_its_own_http_client_asks_for_its_twin() -> None:
    client = openai.OpenAI(
        base_url="http://127.0.0.1:9/v1", api_key=SECRET, http_client=httpx2.Client()
    )
    bot = Chatbot(client=client, display=False)
    with pytest.raises(ChatnbError, match=r"async_client=openai\.AsyncOpenAI\(http_client=") as e:
        _ = bot.async_client
    assert SECRET not in str(e.value)


def test_azure_asks_for_its_own_twin() -> None:
    azure = openai.AzureOpenAI(
        api_key=SECRET, api_version="2024-06-01", azure_endpoint="http://127.0.0.1:9"
    )
    with pytest.raises(ChatnbError, match=r"async_client=openai\.AsyncAzureOpenAI"):
        _ = Chatbot(client=azure).async_client


def test_a_mock_client_alone_gets_a_twin_on_the_same_engine() -> None:
    bot = Chatbot(client=mock.client(["one", "two"]), display=False)
    assert bot.ask("a") == "one"
    assert asyncio.run(bot.aask("b")) == "two"  # the scripted replies are shared


def test_an_async_client_alone_gets_a_sync_twin() -> None:
    with RecordingServer(PLAIN) as server:
        only_async = openai.AsyncOpenAI(
            base_url=server.url, api_key=SECRET, default_headers={"X-Team": "a"}
        )
        bot = Chatbot(async_client=only_async, display=False)
        assert bot.ask("hi")
    assert server.requests[0].headers["x-team"] == "a"


def test_the_spec_never_shows_the_key() -> None:
    spec = ClientSpec.of(openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key=SECRET))
    clients = Clients(spec.sync())
    assert SECRET not in repr(spec) and SECRET not in repr(clients)
    assert spec.asynchronous().api_key == SECRET


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city. " * 40,
        "parameters": {
            "type": "object",
            "properties": {
                f"option_{i}": {"type": "string", "description": f"Setting number {i} of many."}
                for i in range(40)
            },
            "required": ["option_0"],
        },
    },
}


def test_tool_definitions_count_against_the_budget() -> None:
    small = Chatbot.mock(display=False, context_window=700, max_output_tokens=200)  # 500 budget
    with pytest.raises(ContextBudgetError, match="tools"):
        small.ask("What's the weather?", tools=[WEATHER_TOOL])
    assert len(small.history) == 0  # nothing was sent, nothing kept
    bot = Chatbot.mock(display=False, tools=[WEATHER_TOOL])
    bot.ask("What's the weather?")
    usage = bot.usage.last
    assert usage is not None and usage.prompt_tokens is not None and usage.prompt_tokens > 500
    assert usage.local_prompt_tokens == usage.prompt_tokens  # counted as the server bills it


def test_clients_chatnb_builds_have_a_sane_timeout_and_yours_keep_theirs() -> None:
    import openai

    from chatnb import Chatbot
    from chatnb.clients import CONNECT_TIMEOUT_S, READ_TIMEOUT_S

    built = Chatbot("gpt-4o", base_url="http://127.0.0.1:9/v1", api_key="sk-x")
    for client in (built.client, built.async_client):
        timeout = client.timeout
        assert timeout.connect == CONNECT_TIMEOUT_S and timeout.read == READ_TIMEOUT_S  # type: ignore[union-attr]
    yours = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="sk-x", timeout=42.0)
    assert Chatbot("gpt-4o", client=yours).client.timeout == 42.0
