"""The Chatbot's tool loop and structured answers, against the mock (which checks the order of
messages as the real API does, so a corrupted History fails the next ask)."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import pytest
from pydantic import BaseModel

from chatnb import Chatbot
from chatnb.display import TextSink
from chatnb.errors import AnswerInterrupted, StructuredOutputError, ToolStepLimitError
from chatnb.mock import MarkdownSample, ToolCall
from chatnb.mock.conversation import check_conversation
from chatnb.schema import ChatMessage

QUESTION = "What is the weather in Paris, and the local time there?"


def get_weather(city: str, units: str = "celsius") -> dict[str, Any]:
    """The current weather in a city."""
    CALLS.append(("get_weather", city))
    if city == "Atlantis":
        raise LookupError("no weather station there")
    return {"city": city, "temp": 21, "units": units}


async def get_time(timezone: str) -> str:
    """The local time in an IANA time zone."""
    await asyncio.sleep(0)
    CALLS.append(("get_time", timezone))
    return "14:05"


CALLS: list[tuple[str, str]] = []


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    CALLS.clear()


def _valid(bot: Chatbot) -> list[ChatMessage]:
    """The History, checked as the API checks a request's messages."""
    messages = list(bot.history)
    check_conversation(messages)
    return messages


def test_a_two_tool_loop_runs_the_functions_and_ends_with_text() -> None:
    bot = Chatbot.mock(tools=[get_weather, get_time], display=False)
    answer = bot.ask(QUESTION)
    assert sorted(name for name, _ in CALLS) == ["get_time", "get_weather"]  # parallel calls
    roles = [m.role for m in _valid(bot)]
    assert roles == ["user", "assistant", "tool", "tool", "assistant"]
    assert answer.finish_reason == "stop" and "14:05" in answer and '"temp":21' in answer
    assert [r.name for r in answer.tool_results] == ["get_weather", "get_time"]
    assert all(r.ok for r in answer.tool_results)
    assert bot.ask("Thanks!", tools=[]) == "Thanks!"  # the History is one the API accepts


def test_async_tools_run_concurrently_in_aask() -> None:
    both = asyncio.Event()
    arrived: list[str] = []

    async def first(name: str) -> str:
        arrived.append(name)
        if len(arrived) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), timeout=10)  # only if the other runs meanwhile
        return "one"

    async def second(name: str) -> str:
        return await first(name)

    script = [[ToolCall("first", {"name": "a"}), ToolCall("second", {"name": "b"})], "Done."]
    bot = Chatbot.mock(script, tools=[first, second], display=False)
    answer = asyncio.run(bot.aask("Go"))
    assert answer == "Done." and sorted(arrived) == ["a", "b"]


def test_bad_arguments_and_exceptions_go_back_to_the_model() -> None:
    script = [
        [
            ToolCall("get_weather", {"city": 5}),
            ToolCall("get_weather", {"city": "Atlantis"}),
            ToolCall("get_wether", {"city": "Paris"}),
        ],
        "Sorry.",
    ]
    bot = Chatbot.mock(script, tools=[get_weather], display=False)
    answer = bot.ask(QUESTION)
    assert answer == "Sorry."
    bad, raised, unknown = (r.content for r in answer.tool_results)
    assert bad.startswith("Error: invalid arguments for get_weather: city:")
    assert raised == "Error: get_weather raised LookupError: no weather station there"
    assert "no tool named 'get_wether'" in unknown and "get_weather" in unknown
    assert CALLS == [("get_weather", "Atlantis")]  # the invalid call never ran
    _valid(bot)


def test_the_step_limit_stops_with_a_clear_message_and_a_valid_history() -> None:
    bot = Chatbot.mock(ToolCall("get_weather", {"city": "Paris"}), tools=[get_weather])
    bot.display = False
    with pytest.raises(ToolStepLimitError, match=r"after 2 rounds.*max_steps="):
        bot.ask(QUESTION, max_steps=2)
    assert len(CALLS) == 2
    messages = _valid(bot)
    assert "max_steps=2" in str(messages[-1].content)
    assert bot.ask("Then just say hi.", tools=[]) == "Then just say hi."


def test_declared_tools_are_returned_not_run() -> None:
    declared = {
        "type": "function",
        "function": {"name": "book_flight", "parameters": {"type": "object", "properties": {}}},
    }
    bot = Chatbot.mock(tools=[declared], display=False)
    answer = bot.ask("Book me a flight.")
    assert [c.function.name for c in answer.tool_calls] == ["book_flight"]
    assert answer.finish_reason == "tool_calls"
    assert "declared without a Python function" in str(_valid(bot)[-1].content)
    # Beside a Python tool in the same answer: that one runs, and the calls are the answer.
    both = [ToolCall("get_weather", {"city": "Paris"}), ToolCall("book_flight", {})]
    bot = Chatbot.mock([both], tools=[get_weather, declared], display=False)
    answer = bot.ask("Weather, then a flight.")
    assert CALLS == [("get_weather", "Paris")] and answer.finish_reason == "tool_calls"
    assert [r.ok for r in answer.tool_results] == [True, False]
    assert [m.role for m in _valid(bot)] == ["user", "assistant", "tool", "tool"]


def test_confirm_asks_before_each_call(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def only_paris(call: Any) -> bool:
        asked.append(call.function.arguments)
        return "Paris" in call.function.arguments

    script = [
        [ToolCall("get_weather", {"city": "Paris"}), ToolCall("get_weather", {"city": "Rome"})],
        "ok",
    ]
    bot = Chatbot.mock(script, tools=[get_weather], confirm=only_paris, display=False)
    answer = bot.ask(QUESTION)
    assert len(asked) == 2 and CALLS == [("get_weather", "Paris")]
    assert answer.tool_results[1].content == "Not run: the user declined this call."

    monkeypatch.setattr("builtins.input", lambda prompt: "y" if "Rome" in prompt else "n")
    bot = Chatbot.mock(script, tools=[get_weather], confirm=True, display=False)
    bot.ask(QUESTION)
    assert CALLS[-1] == ("get_weather", "Rome") and len(CALLS) == 2


def test_tool_definitions_count_against_the_budget() -> None:
    def lookup(query: str, region: str, language: str, limit: int, exact: bool) -> str:
        """Look a query up in the catalogue, with every filter the catalogue offers, and return
        the best match as a short text with its identifier and its price."""
        return "none"

    plain = Chatbot.mock(display=False).ask("Hi", tool_choice="none")
    bot = Chatbot.mock(tools=[lookup], display=False)
    answer = bot.ask("Hi", tool_choice="none")
    assert answer.usage is not None and plain.usage is not None
    # Counted locally exactly as the mock (which counts like the API) bills them.
    assert answer.usage.local_prompt_tokens == answer.usage.prompt_tokens
    assert answer.usage.local_prompt_tokens > plain.usage.local_prompt_tokens + 40


class City(BaseModel):
    name: str
    population: int
    landmarks: list[str]


def test_a_structured_answer_is_parsed_and_shown_filling_in() -> None:
    screen = io.StringIO()
    bot = Chatbot.mock(display=TextSink(screen), chunking="chars")
    answer = bot.ask("A city, please.", response_format=City)
    assert isinstance(answer.parsed, City)
    assert City.model_validate_json(bot.history.last.content)  # type: ignore[union-attr, arg-type]
    assert '"population": 545000' in screen.getvalue()  # pretty-printed, not the raw JSON


def test_a_structured_answer_that_is_not_json_keeps_its_text() -> None:
    bot = Chatbot.mock("Paris is lovely.", display=False)
    with pytest.raises(StructuredOutputError, match="not JSON") as failed:
        bot.ask("A city, please.", response_format=City)
    assert failed.value.raw == "Paris is lovely." == bot.history.last.content  # type: ignore[union-attr]
    with pytest.raises(StructuredOutputError, match="not a valid City"):
        Chatbot.mock({"name": "Paris"}, display=False).ask("A city", response_format=City)
    assert Chatbot.mock(display=False).ask("x", response_format={"type": "json_object"}).parsed == {
        "answer": "x"
    }


class _Interrupting(TextSink):
    """A display whose update raises KeyboardInterrupt once ``trigger`` shows: Ctrl-C at that
    moment of the ask."""

    def __init__(self, trigger: str) -> None:
        super().__init__(io.StringIO())
        self.trigger = trigger

    def _write(self, text: str) -> None:
        super()._write(text)
        assert isinstance(self.file, io.StringIO)
        if self.trigger and self.trigger in self.file.getvalue():
            self.trigger = ""
            raise KeyboardInterrupt


ROUND = ["assistant", "tool", "tool"]


@pytest.mark.parametrize(
    ("trigger", "kept"),
    [
        ('"Paris"', []),  # the first round's arguments: the question is taken back
        ('"Oslo"', ["user", *ROUND]),  # the second round's arguments
        ("", ["user", *ROUND]),  # while a tool runs (Rome's): it is answered as not run
        ("sample answer", ["user", *ROUND, "assistant", "tool", "assistant"]),  # the text
    ],
)
def test_an_interrupt_anywhere_leaves_a_history_the_api_accepts(
    trigger: str, kept: list[str]
) -> None:
    def weather(city: str) -> str:
        if city == "Rome" and not trigger:
            raise KeyboardInterrupt  # Ctrl-C while this tool runs
        return "sunny"

    calls = [ToolCall("weather", {"city": "Paris"}), ToolCall("weather", {"city": "Rome"})]
    script = [calls, ToolCall("weather", {"city": "Oslo"}), MarkdownSample(3_000)]
    sink = _Interrupting(trigger)
    bot = Chatbot.mock(script, tools=[weather], display=sink)
    with pytest.raises(KeyboardInterrupt):
        bot.ask(QUESTION)
    assert [m.role for m in _valid(bot)] == kept
    screen = sink.file.getvalue()  # type: ignore[union-attr]
    if trigger == '"Paris"':  # the answer broke off while the calls streamed: never run
        assert "← weather ✗ 1 ms: Not run: the answer stopped before it was complete." in screen
    if not trigger:
        assert bot.history[-1].content == (
            "Not run: the user interrupted the answer before this call ran."
        )
        assert "← weather ✗ 1 ms: Not run: the user interrupted" in screen  # on screen too
    if trigger == "sample answer":
        assert bot.history.note(bot.history.last) == "interrupted"  # type: ignore[arg-type]
    bot.display = False
    # The mock checks the History as the API does: the next ask is accepted.
    assert bot.ask("Still there?", tools=[]).finish_reason == "stop"
    _valid(bot)


def test_an_interrupted_stream_is_noted_and_the_next_ask_works() -> None:
    bot = Chatbot.mock(MarkdownSample(3_000), display=_Interrupting("sample answer"))
    with pytest.raises(AnswerInterrupted):
        bot.ask("Long, please", tools=[get_weather], tool_choice="none")
    assert bot.history.note(bot.history.last) == "interrupted"  # type: ignore[arg-type]


def test_confirm_in_a_widget_waits_for_a_button() -> None:
    import ipywidgets

    box = ipywidgets.VBox()
    script = [[ToolCall("get_weather", {"city": "Paris"})], "ok"]
    bot = Chatbot.mock(script, tools=[get_weather], confirm=True)

    async def click_run_when_asked() -> Any:
        task = asyncio.ensure_future(bot.aask(QUESTION, output=box))
        while not any(isinstance(c, ipywidgets.HBox) for c in box.children):
            assert not task.done(), "the ask ended without asking"
            await asyncio.sleep(0.01)
        row = next(c for c in box.children if isinstance(c, ipywidgets.HBox))
        label, run, _ = row.children
        assert label.value == 'Run get_weather({"city":"Paris"})?' and CALLS == []
        run.click()
        return await task, label, run

    answer, label, run = asyncio.run(click_run_when_asked())
    assert answer == "ok" and CALLS == [("get_weather", "Paris")]
    assert run.disabled and label.value.endswith(" run")


def _frame(delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    chunk = {
        "id": "chatcmpl-refused",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o",
        "choices": [choice],
    }
    return f"data: {json.dumps(chunk)}\n\n".encode()


def test_a_refusal_of_a_structured_answer_is_a_clear_error() -> None:
    import openai

    from .servers import RecordingServer

    refusal = b"".join(
        [
            _frame({"role": "assistant", "content": None, "refusal": ""}),
            _frame({"refusal": "I can't help with that."}),
            _frame({}, "stop"),
            b"data: [DONE]\n\n",
        ]
    )
    with RecordingServer(refusal) as server:
        client = openai.OpenAI(base_url=server.url, api_key="sk-local", max_retries=0)
        bot = Chatbot("gpt-4o", client=client, display=False)
        with pytest.raises(StructuredOutputError, match="refused to answer with City") as refused:
            bot.ask("A city, please.", response_format=City)
    assert refused.value.refusal == "I can't help with that."
    assert bot.history.last.refusal == "I can't help with that."  # type: ignore[union-attr]
    sent = json.loads(server.requests[0].body)["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["strict"] is True


def test_a_cancelled_aask_while_a_tool_runs_leaves_a_valid_history() -> None:
    started = asyncio.Event()

    async def slow(city: str) -> str:
        started.set()
        await asyncio.sleep(60)
        return "never"

    script = [[ToolCall("slow", {"city": "Paris"})], "ok"]
    bot = Chatbot.mock(script, tools=[slow], display=False)

    async def stop_it() -> None:
        task = asyncio.ensure_future(bot.aask(QUESTION))
        await started.wait()
        task.cancel()  # the widget's Stop button
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(stop_it())
    assert [m.role for m in _valid(bot)] == ["user", "assistant", "tool"]
    assert "interrupted" in str(bot.history.last.content)  # type: ignore[union-attr]
    assert bot.ask("Still there?", tools=[]).finish_reason == "stop"
