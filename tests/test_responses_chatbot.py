"""``Chatbot(..., api="responses")``: the same asks, tools, structured answers, History rules,
record/replay and usage as Chat Completions, over the Responses API of the embedded mock; and
what an answer costs, cached input and reasoning priced from ``chatnb/prices.json``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from chatnb import Chatbot
from chatnb.cache import Cache
from chatnb.errors import ChatnbError
from chatnb.pricing import PRICES, PRICES_READ, price_for
from chatnb.wire import responses as responses_wire


def get_weather(city: str) -> dict[str, str]:
    """The current weather in a city."""
    return {"city": city, "sky": "clear"}


class City(BaseModel):
    name: str
    population: int


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every Responses request a Chatbot sends, as it goes on the wire."""
    requests: list[dict[str, Any]] = []
    translate = responses_wire.responses_request

    def recorded(request: dict[str, Any]) -> dict[str, Any]:
        out = translate(request)
        if out.get("input"):
            requests.append(out)
        return out

    monkeypatch.setattr(responses_wire.ResponsesWire, "request", staticmethod(recorded))
    return requests


def test_ask_streams_text_and_reasoning_summary(sent: list[dict[str, Any]]) -> None:
    bot = Chatbot.mock("The answer.", api="responses", reasoning="Thinking.", display=False)
    answer = bot.ask("Hello?")
    assert answer == "The answer." and answer.reasoning == "Thinking."
    assert answer.finish_reason == "stop"
    assert sent[0]["input"] == [{"role": "user", "content": "Hello?"}]
    assert "messages" not in sent[0] and sent[0]["store"] is False
    assert [m.role for m in bot.history] == ["user", "assistant"]


def test_aask_works_the_same() -> None:
    bot = Chatbot.mock("Async.", api="responses", display=False)
    assert asyncio.run(bot.aask("Hi")) == "Async."


def test_tool_loop_keeps_and_sends_back_encrypted_reasoning(sent: list[dict[str, Any]]) -> None:
    bot = Chatbot.mock(
        api="responses",
        model="o4-mini",
        reasoning="Weather needs a tool.",
        tools=[get_weather],
        display=False,
    )
    answer = bot.ask("What is the weather in Paris?")
    assert "clear" in answer and len(answer.tool_results) == 1
    roles = [m.role for m in bot.history]
    assert roles == ["user", "assistant", "tool", "assistant"]
    calling = bot.history[1]
    (item,) = calling.model_extra["reasoning_items"]  # type: ignore[index]
    assert item["encrypted_content"].startswith("gAAAA")
    assert sent[0]["include"] == ["reasoning.encrypted_content"]
    second = sent[1]["input"]
    kinds = [i.get("type", i.get("role")) for i in second]
    assert kinds == ["user", "reasoning", "function_call", "function_call_output"]
    assert second[1] == item  # the reasoning went back, before the call it led to
    assert second[2]["call_id"] == second[3]["call_id"] == calling.tool_calls[0].id  # type: ignore[index]


def test_response_format_becomes_text_format(sent: list[dict[str, Any]]) -> None:
    bot = Chatbot.mock(api="responses", display=False)
    answer = bot.ask("A city, please.", response_format=City)
    assert isinstance(answer.parsed, City)
    fmt = sent[0]["text"]["format"]
    assert fmt["type"] == "json_schema" and fmt["name"] == "City" and fmt["strict"] is True


def test_responses_options_pass_and_chat_only_options_are_refused(
    sent: list[dict[str, Any]],
) -> None:
    # On the mock, reasoning= is the mock's reasoning text: the API's goes with the ask.
    bot = Chatbot.mock(api="responses", model="gpt-5-mini", display=False)
    bot.ask("One.", store=True, reasoning={"effort": "low", "summary": "auto"})
    assert sent[0]["reasoning"] == {"effort": "low", "summary": "auto"} and sent[0]["store"]
    before = list(bot.history)
    with pytest.raises(TypeError, match="'logprobs' is a Chat Completions option"):
        bot.ask("Two.", logprobs=True)
    assert list(bot.history) == before  # refused before anything was added or sent
    with pytest.raises(TypeError, match="'truncation' is not an option chatnb knows"):
        Chatbot("gpt-5", api_key="sk-unused", truncation="auto")  # api="chat" has no truncation=
    with pytest.raises(ValueError, match="api='bogus'"):
        Chatbot.mock(api="bogus")


def test_previous_response_id_is_an_option(sent: list[dict[str, Any]]) -> None:
    bot = Chatbot.mock("echo", api="responses", display=False)
    bot.ask("first", store=True)
    stored = next(iter(bot.clients.sync._client._transport.backend.engine.responses))  # type: ignore[attr-defined]
    assert bot.ask("second", previous_response_id=stored) == "second"
    assert sent[1]["previous_response_id"] == stored


def test_a_failure_mid_stream_leaves_a_valid_history() -> None:
    bot = Chatbot.mock(
        "one two three four five",
        api="responses",
        chunking="words",
        failure={"error_after": 6, "times": 1},
        display=False,
        max_retries=0,
    )
    with pytest.raises(ChatnbError, match="error while streaming"):
        bot.ask("Go.")
    assert [m.role for m in bot.history] == ["user", "assistant"]
    assert bot.history.note(bot.history[1]) == "failed"
    assert bot.ask("Again.") == "one two three four five"  # the API accepts what is kept


def test_record_then_replay_with_no_server(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    recorded = Chatbot.mock(
        "Recorded.", api="responses", reasoning="Hm.", cache=path, display=False
    )
    first = recorded.ask("Q?")
    replay = Chatbot.mock(
        failure={"status": 500},
        api="responses",
        cache=Cache(path, mode="replay"),
        display=False,
        max_retries=0,
    )
    again = replay.ask("Q?")
    assert again == first == "Recorded." and again.reasoning == "Hm."


# --- usage and cost ----------------------------------------------------------------------


def test_prices_come_from_one_dated_file() -> None:
    data = json.loads((Path(__file__).parents[1] / "chatnb" / "prices.json").read_text())
    assert data["read"] == PRICES_READ and len(PRICES) == len(data["models"])
    assert price_for("gpt-4o-mini-2024-07-18") == PRICES["gpt-4o-mini"]


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_cost_with_cached_input_is_the_hand_computation(api: str) -> None:
    row = json.loads((Path(__file__).parents[1] / "chatnb" / "prices.json").read_text())["models"][
        "gpt-4o-mini"
    ]
    bot = Chatbot.mock(
        "A short answer.",
        api=api,
        cached_tokens=6,
        price=price_for("gpt-4o-mini"),
        display=False,
    )
    usage = bot.ask("Cache this prompt, please.").usage
    assert usage is not None and usage.cached_tokens == 6
    prompt, completion = usage.billed_prompt_tokens, usage.billed_completion_tokens
    by_hand = (
        (prompt - 6) * row["input"] + 6 * row["cached_input"] + completion * row["output"]
    ) / 1e6
    assert usage.cost_usd == pytest.approx(by_hand, rel=1e-12)
    assert usage.cost_usd < price_for("gpt-4o-mini").cost(prompt, completion)  # type: ignore[union-attr]
    assert "(6 cached)" in usage.line()


def test_reasoning_tokens_are_read_from_both_apis() -> None:
    for api in ("chat", "responses"):
        usage = Chatbot.mock("x", api=api, reasoning="a b c", display=False).ask("q").usage
        assert usage is not None and usage.reasoning_tokens == 3, api


def test_the_mock_costs_nothing_and_says_so() -> None:
    bot = Chatbot.mock("Free.", model="gpt-4o", display=False)
    usage = bot.ask("Hi").usage
    assert usage is not None and usage.cost_usd == 0 and usage.price_label == "mock"
    assert usage.line().endswith("$0.000000 (mock))")
    assert "(mock)" in str(bot.usage)
