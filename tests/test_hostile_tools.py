"""Hostile tool traffic (issue 28): arguments nested past the recursion limit, a tool error
that quotes the key, results and arguments too large for the window. Each must go back to the
model as a tool error or a cut result, leave a History the API accepts, and let the next ask
work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import pytest

from chatnb import Chatbot, History
from chatnb.errors import ContextBudgetError
from chatnb.mock import ToolCall
from chatnb.mock.conversation import check_conversation

from .fakes import FakeSink
from .kernel import Kernel
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
    screen = FakeSink()
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
    with serving(*script, tools=[deep], display=FakeSink()) as (bot, _):
        (result,) = bot.ask(QUESTION).tool_results
    assert not result.ok and "could not be written as JSON" in result.content
    script = (calling('{"city": "Paris"}', "brackets"), saying("b"))
    screen = FakeSink()
    with serving(*script, tools=[brackets], display=screen) as (bot, _):
        assert bot.ask(QUESTION) == "b"  # shown as text, not parsed into a RecursionError
    assert any("[[[[" in shown for shown in screen.outputs)


# -- finding 3: the key through a tool's error -----------------------------------------------

#: The Chatbot's own key, shaped like no known key: only the Chatbot's secrets can catch it.
KEY = "proxy-token-Zq81Hh3kLw0pXy"
OTHER_KEY = "sk-live-OTHERother9876543210fedcba"
LEAKY_TOOL = f"""
def upstream(city: str) -> str:
    "Calls an upstream API that echoes the credentials it refused."
    raise PermissionError(
        "401 from upstream: Authorization: Bearer {KEY} refused; the key {KEY} is not "
        "valid here (nor is {OTHER_KEY})"
    )
"""
namespace: dict[str, Any] = {}
exec(LEAKY_TOOL, namespace)
upstream = namespace["upstream"]


def test_a_tool_error_quoting_the_key_is_redacted_everywhere(tmp_path: Path) -> None:
    cache = tmp_path / "runs.sqlite"
    screen = FakeSink()
    with RecordingServer(
        [calling('{"city": "Paris"}', "upstream"), saying("It failed.")]
    ) as server:
        client = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0)
        bot = Chatbot("gpt-4o", client=client, tools=[upstream], display=screen, cache=cache)
        answer = bot.ask(QUESTION)
    assert answer == "It failed."
    sent = server.requests[1].body.decode()  # the request that carried the tool's error
    assert "PermissionError: 401 from upstream" in sent and "Bearer ***" in sent
    assert "the key *** is not valid" in sent  # the key alone, not only after "Bearer"
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # the file, its WAL too
    for secret in (KEY, OTHER_KEY):
        assert secret not in sent and secret.encode() not in stored
        assert secret not in "\n".join(screen.outputs)
        assert secret not in answer.tool_results[0].text
        assert secret not in bot.to_markdown() and secret not in bot.history.to_json()
    assert _valid(bot) == ["user", "assistant", "tool", "assistant"]


# -- finding 5: a tool result or arguments too large for the window ----------------------------

PAGE = "word " * 130_000  # 650 KB, about 130,000 tokens: more than gpt-4o's prompt budget


def fetch(url: str) -> str:
    """Fetch a web page."""
    return PAGE


def test_a_result_too_large_for_the_window_is_cut_and_the_next_ask_works() -> None:
    script = [
        ToolCall("fetch", {"url": "a"}),
        "Read it.",
        ToolCall("fetch", {"url": "b"}),
        "Again.",
    ]
    bot = Chatbot.mock(script, model="gpt-4o", tools=[fetch], display=False)
    answer = bot.ask("Read the page.")
    assert answer == "Read it."
    (result,) = answer.tool_results
    assert result.ok and result.full_content == PAGE and result.text == PAGE
    assert result.content.startswith("word word") and len(result.content) < len(PAGE)
    assert (
        result.content.endswith("if you need the rest.]") and "650,000 characters" in result.content
    )
    kept = bot.history[2].content
    assert kept == result.content  # the model got the cut text, with the note
    budget = bot.limits.prompt_budget()
    assert bot.history.tokens() <= budget
    assert bot.ask("Now the other page.") == "Again."  # the next ask works, and so on
    # The first turn no longer fits beside the second: it is left out, as a whole.
    assert _valid(bot) == ["user", "assistant", "tool", "assistant"]


def test_results_of_several_rounds_and_parallel_calls_share_the_window() -> None:
    calls = [ToolCall("fetch", {"url": "a"}), ToolCall("fetch", {"url": "b"})]
    script = [calls, ToolCall("fetch", {"url": "c"}), ToolCall("fetch", {"url": "d"}), "Done."]
    bot = Chatbot.mock(script, model="gpt-4o", tools=[fetch], display=False)
    answer = bot.ask("Read four pages.")
    assert answer == "Done." and len(answer.tool_results) == 4
    assert all(r.text == PAGE for r in answer.tool_results)  # the whole of each, kept
    rounds = ["assistant", "tool", "tool", "assistant", "tool", "assistant", "tool", "assistant"]
    assert _valid(bot) == ["user", *rounds]
    results = [str(m.content) for m in bot.history if m.role == "tool"]
    assert len(results[-1]) > len(results[0])  # the oldest are cut first, the newest kept
    assert bot.history.tokens() <= bot.limits.prompt_budget()


def test_arguments_too_large_for_the_window_are_left_out_and_not_run() -> None:
    ran: list[int] = []

    def save(text: str) -> str:
        """Save a text."""
        ran.append(len(text))
        return "saved"

    huge = json.dumps({"text": "x" * 10_000_000})
    script = (calling(huge, "save", piece=65_536), saying("Too long, sorry."), saying("Hi"))
    with serving(*script, tools=[save]) as (bot, server):
        answer = bot.ask("Save this.")
        assert answer == "Too long, sorry." and ran == []
        (result,) = answer.tool_results
        assert not result.ok and "10,000,012 characters" in result.content
        assert result.arguments == huge  # the whole call is kept for the caller
        call = bot.history[1].tool_calls[0]  # type: ignore[index]
        assert call.function.arguments == "{}" and call.id == result.call_id
        assert len(server.requests[1].body) < 100_000  # the next request does not carry it
        assert bot.ask("Still there?") == "Hi"
    assert _valid(bot) == ["user", "assistant", "tool", "assistant", "user", "assistant"]


def test_the_error_names_the_newest_message_only_when_it_is_the_one_too_long() -> None:
    bot = Chatbot.mock(model="gpt-4o", display=False)
    with pytest.raises(ContextBudgetError, match=r"^The newest message is too long: it takes"):
        bot.ask(PAGE)
    assert len(bot.history) == 0  # the question was taken back

    history = History(model="gpt-4o")
    call = {"id": "call_1", "type": "function", "function": {"name": "fetch", "arguments": "{}"}}
    history.append({"role": "user", "content": "Read it."})
    history.append({"role": "assistant", "content": None, "tool_calls": [call]})
    history.append({"role": "tool", "tool_call_id": "call_1", "content": PAGE})
    history.append({"role": "assistant", "content": "x " * 60_000})
    with pytest.raises(ContextBudgetError) as blamed:
        history.fitting(100_000)
    assert str(blamed.value).startswith("The result of tool call 'call_1' in the newest turn")
    assert history.make_room(100_000) == 1  # the old result is cut, the answer kept whole
    assert history.fitting(100_000).turns == 0 and history[-1].content == "x " * 60_000
    assert "chatnb cut this result to make room" in str(history[2].content)
    check_conversation(list(history))
    assert history.make_room(1_000) == 0  # cutting every result would not be enough: no change
    with pytest.raises(ContextBudgetError, match=r"^The answer of the model in the newest turn"):
        history.fitting(1_000)


def test_a_tool_error_quoting_the_key_never_reaches_the_kernels_iopub(
    kernel: Kernel, tmp_path: Path
) -> None:
    cache = tmp_path / "runs.sqlite"
    setup = f"""
from chatnb import Chatbot, mock
from chatnb.mock import ToolCall
{LEAKY_TOOL}
script = [ToolCall("upstream", {{"city": "Paris"}}), "It failed."]
client = mock.client(script, api_key={KEY!r})
bot = Chatbot("gpt-4o", client=client, tools=[upstream], cache={str(cache)!r})
"""
    kernel.run(setup).ok()
    asked = kernel.run("answer = bot.ask('What is the weather in Paris?')\nanswer").ok()
    shown = kernel.run(
        "print(bot.history.to_json(), bot.to_markdown(), answer.tool_results)\nbot.history"
    ).ok()
    wire = json.dumps([m["content"] for m in asked.messages + shown.messages])
    assert "upstream" in wire and "401 from upstream" in wire  # the error is shown, redacted
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (KEY, OTHER_KEY):
        assert secret not in wire and secret.encode() not in stored
