"""Hostile tool traffic (issue 28): arguments nested past the recursion limit, a tool error
that quotes the key, results and arguments too large for the window. Each must go back to the
model as a tool error or a cut result, leave a History the API accepts, and let the next ask
work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import openai
import pytest

from chatnb import Chatbot
from chatnb.mock.conversation import check_conversation

from .servers import RecordingServer

QUESTION = "What is the weather in Paris?"


def _frame(delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    chunk = {
        "id": "chatcmpl-hostile",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o",
        "choices": [choice],
    }
    return f"data: {json.dumps(chunk)}\n\n".encode()


def calling(arguments: str, name: str = "lookup", piece: int = 0) -> bytes:
    """A stream that calls ``name`` with ``arguments`` (in pieces of ``piece`` characters)."""
    opened = {"index": 0, "id": "call_1", "type": "function"}
    frames = [_frame({"role": "assistant", "tool_calls": [{**opened, "function": {"name": name}}]})]
    step = piece or max(1, len(arguments))
    frames += [
        _frame({"tool_calls": [{"index": 0, "function": {"arguments": arguments[at : at + step]}}]})
        for at in range(0, len(arguments), step)
    ]
    return b"".join([*frames, _frame({}, "tool_calls"), b"data: [DONE]\n\n"])


def saying(text: str) -> bytes:
    frames = [_frame({"role": "assistant", "content": text}), _frame({}, "stop")]
    return b"".join([*frames, b"data: [DONE]\n\n"])


class Screen:
    """A display sink that keeps what each output shows (as a frontend would)."""

    appends_only = False

    def __init__(self) -> None:
        self.outputs: list[str] = []

    def show(self, markdown: str) -> int:
        self.outputs.append(markdown)
        return len(self.outputs) - 1

    def replace(self, handle: int, markdown: str) -> None:
        self.outputs[handle] = markdown

    def note(self, text: str) -> None:
        self.outputs.append(text)


def lookup(city: Any) -> str:
    """The weather in a city."""
    return "sunny"


@contextmanager
def serving(*bodies: bytes, **settings: Any) -> Iterator[tuple[Chatbot, RecordingServer]]:
    """A Chatbot on gpt-4o talking to a server on 127.0.0.1 that answers ``bodies`` in turn."""
    with RecordingServer(list(bodies)) as server:
        client = openai.OpenAI(base_url=server.url, api_key="sk-local-test", max_retries=0)
        settings = {"tools": [lookup], "display": False, **settings}
        yield Chatbot("gpt-4o", client=client, **settings), server


def _valid(bot: Chatbot) -> list[str]:
    check_conversation(list(bot.history))  # raises as the API would
    return [m.role for m in bot.history]


# -- finding 8: arguments nested past the recursion limit ------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        "[" * 100_000,  # malformed, and deep
        '{"city": ' + "[" * 5_000 + "]" * 5_000 + "}",  # valid JSON, nested 5,000 deep
        '{"city": "[[[[ in a string", "x": ' + "{" * 101,  # brackets in strings do not nest
    ],
    ids=["open-brackets", "valid-deep", "deep-unclosed"],
)
def test_deeply_nested_arguments_go_back_to_the_model_as_a_tool_error(arguments: str) -> None:
    screen = Screen()
    with serving(calling(arguments, piece=4_096), saying("Sorry."), saying("Hi")) as (bot, _):
        bot.display = screen
        answer = bot.ask(QUESTION)
        assert answer == "Sorry."
        (result,) = answer.tool_results
        assert not result.ok and "nest more than 100 levels deep" in result.content
        assert _valid(bot) == ["user", "assistant", "tool", "assistant"]
        assert bot.ask("Still there?") == "Hi"  # the next ask works
    assert any("<code>lookup</code>" in shown for shown in screen.outputs)


def test_arguments_just_within_the_nesting_limit_still_run() -> None:
    within = '{"city": ' + "[" * 99 + "]" * 99 + "}"
    with serving(calling(within), saying("Done.")) as (bot, _):
        answer = bot.ask(QUESTION)
    assert answer == "Done." and answer.tool_results[0].content == "sunny"


def test_a_result_nested_too_deep_to_write_is_a_tool_error_and_shows() -> None:
    def deep(city: str) -> Any:
        """A value nested far past the recursion limit."""
        value: list[Any] = []
        for _ in range(100_000):
            value = [value]
        return value

    def brackets(city: str) -> str:
        """A text that looks like JSON nested far past the recursion limit."""
        return "[" * 100_000

    script = (calling('{"city": "Paris"}', "deep"), saying("a"))
    with serving(*script, tools=[deep], display=Screen()) as (bot, _):
        (result,) = bot.ask(QUESTION).tool_results
    assert not result.ok and "could not be written as JSON" in result.content
    script = (calling('{"city": "Paris"}', "brackets"), saying("b"))
    screen = Screen()
    with serving(*script, tools=[brackets], display=screen) as (bot, _):
        assert bot.ask(QUESTION) == "b"  # shown as text, not parsed into a RecursionError
    assert any("[[[[" in shown for shown in screen.outputs)
