"""The Chatbot through the real openai client, on both fronts of the mock: every failure keeps
what arrived, explains itself, and leaves the next ask working."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from chatnb import Chatbot
from chatnb.clients import DEFAULT_BASE_URL
from chatnb.errors import (
    APIRequestError,
    AuthenticationError,
    ChatnbError,
    ChunkValidationError,
    ContextBudgetError,
    StreamError,
    StreamErrorFrame,
    TruncatedStreamError,
)
from chatnb.mock import MockServer

REPLY = "Streaming **works**, and so does `code` in a longer answer of several tokens."
SECRET = "sk-test-secret-0123456789abcdef"

BotFactory = Callable[..., Chatbot]


@pytest.fixture(params=["in-process", "http"])
def make_bot(request: pytest.FixtureRequest) -> Iterator[BotFactory]:
    """Chatbots on a fresh mock; HTTP servers are stopped at teardown."""
    servers: list[MockServer] = []

    def factory(
        reply: Any = REPLY,
        *,
        server_key: str | None = None,
        api_key: str = "sk-unused",
        max_retries: int = 0,
        engine: dict[str, Any] | None = None,
        **options: Any,
    ) -> Chatbot:
        engine = engine or {}
        options.setdefault("model", "gpt-4o")
        if request.param == "in-process":
            if server_key is not None:
                from chatnb import mock

                sync, asynchronous = mock.client_pair(
                    reply, api_key=server_key, max_retries=max_retries, **engine
                )
                sync.api_key = asynchronous.api_key = api_key
                return Chatbot(client=sync, async_client=asynchronous, **options)
            return Chatbot.mock(reply, max_retries=max_retries, **engine, **options)
        server = MockServer(reply, api_key=server_key, **engine).start()
        servers.append(server)
        client = openai.OpenAI(base_url=server.url, api_key=api_key, max_retries=max_retries)
        return Chatbot(client=client, **options)

    yield factory
    for server in servers:
        server.stop()


def shown(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out


def fail_once(**failure: Any) -> dict[str, Any]:
    return {"extra_body": {"mock": {"failure": {**failure, "times": 1}}}}


def test_ask_streams_remembers_and_counts(
    make_bot: BotFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = make_bot(system="Be brief.")
    answer = bot.ask("Hello?")
    assert answer == REPLY and answer.finish_reason == "stop"
    assert shown(capsys) == REPLY + "\n"  # outside a kernel: plain text, as it streams
    assert [m.role for m in bot.history] == ["user", "assistant"]
    assert bot.history.messages()[0] == {"role": "system", "content": "Be brief."}
    usage = bot.usage.last
    assert usage is not None and usage.completion_tokens == usage.local_completion_tokens > 5
    assert usage.prompt_tokens == usage.local_prompt_tokens
    bot("And again?")  # a callable, too
    assert bot.usage.answers == 2 and len(bot.history) == 4
    bot.reset()
    assert len(bot.history) == 0 and bot.usage.answers == 0 and bot.history.system == "Be brief."


def test_the_conversation_is_sent_each_time(make_bot: BotFactory) -> None:
    bot = make_bot("echo", display=False)
    assert bot.ask("first") == "first"
    assert bot.ask("second") == "second"
    assert [m.content for m in bot.history] == ["first", "first", "second", "second"]


def test_async_twin(make_bot: BotFactory, capsys: pytest.CaptureFixture[str]) -> None:
    bot = make_bot()
    answer = asyncio.run(bot.aask("Hi"))
    assert answer == REPLY and len(bot.history) == 2
    assert REPLY in shown(capsys)


def test_older_turns_are_left_out_with_one_quiet_line(
    make_bot: BotFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = make_bot("echo", context_window=400, max_output_tokens=100)
    for i in range(8):
        bot.ask(f"question {i}: " + "words " * 40)
        assert bot.history.tokens() <= 300
    out = shown(capsys)
    assert "older turn" in out and "left out to fit 300 tokens" in out
    assert bot.history[0].role == "user" and bot.history[-1].role == "assistant"


def test_finish_reason_length_is_explained(
    make_bot: BotFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = make_bot()
    answer = bot.ask("Go on", max_tokens=4)
    assert answer.finish_reason == "length" and len(answer) < len(REPLY)
    assert "cut by the token limit" in shown(capsys)
    assert bot.history[-1].content == answer


@pytest.mark.parametrize(
    ("failure", "error_type", "words"),
    [
        ({"error_after": 4}, StreamErrorFrame, "error in the middle of the answer"),
        ({"malformed_after": 4}, ChunkValidationError, "not JSON"),
        ({"disconnect_after": 4}, StreamError, "connection dropped"),
        ({"truncate_after": 4}, TruncatedStreamError, "no finish_reason"),
    ],
)
def test_a_broken_stream_keeps_the_partial_answer(
    make_bot: BotFactory,
    capsys: pytest.CaptureFixture[str],
    failure: dict[str, Any],
    error_type: type[Exception],
    words: str,
) -> None:
    bot = make_bot()
    with pytest.raises(error_type) as caught:
        bot.ask("Tell me", **fail_once(**failure))
    error = caught.value
    assert words in str(error) and "kept in bot.history" in str(error)
    partial = error.partial  # type: ignore[attr-defined]
    assert partial and REPLY.startswith(partial) and partial != REPLY
    assert partial in shown(capsys)  # still on screen
    last = bot.history[-1]
    assert last.role == "assistant" and last.content == partial
    assert bot.history.note(last) == "failed"
    assert bot.ask("Again") == REPLY  # the next call works
    assert bot.history.note(bot.history[-1]) is None


def test_a_stream_without_done_still_completes(
    make_bot: BotFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = make_bot()
    assert bot.ask("Hi", **fail_once(no_done=True)) == REPLY
    assert "without its closing [DONE]" in shown(capsys)


@pytest.mark.parametrize(
    ("failure", "status", "words"),
    [
        ({"status": 429, "retry_after_s": 0}, 429, "rate limiting"),
        ({"status": 500}, 500, "server failed (500)"),
        ({"status": 503}, 503, "still failed with no retries"),
        ({"status": 400, "message": "nope"}, 400, 'The server said: "nope"'),
    ],
)
def test_http_errors_are_one_paragraph_and_take_the_question_back(
    make_bot: BotFactory, failure: dict[str, Any], status: int, words: str
) -> None:
    bot = make_bot()
    bot.ask("A first question")
    with pytest.raises(APIRequestError) as caught:
        bot.ask("Second", **fail_once(**failure))
    assert caught.value.status == status and words in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "The question was not added" in str(caught.value)
    assert len(bot.history) == 2 and bot.history[-1].role == "assistant"
    assert bot.ask("Second") == REPLY


def test_retries_are_the_clients_own(make_bot: BotFactory) -> None:
    bot = make_bot(max_retries=2)
    assert bot.ask("Hi", **fail_once(status=429, retry_after_s=0)) == REPLY


def test_context_length_exceeded_says_what_to_pass(make_bot: BotFactory) -> None:
    # chatnb is told a window larger than the server's own, so the server refuses.
    bot = make_bot("echo", model="gpt-4", context_window=1_000_000, max_output_tokens=100)
    with pytest.raises(APIRequestError) as caught:
        bot.ask("word " * 9_000)
    assert caught.value.code == "context_length_exceeded"
    assert "context_window=" in str(caught.value)
    assert len(bot.history) == 0


def test_a_bad_key_is_explained_and_never_shown(make_bot: BotFactory) -> None:
    bot = make_bot(server_key="sk-the-right-one-000000", api_key=SECRET)
    with pytest.raises(APIRequestError) as caught:
        bot.ask("Hi")
    error = caught.value
    assert error.status == 401 and "OPENAI_API_KEY" in str(error)
    everything = [str(error), repr(error), repr(bot), bot.history.to_json(), str(bot.usage)]
    everything += [line for line in error._render_traceback_()]
    assert not any(SECRET in text or SECRET[8:] in text for text in everything)


def test_a_key_the_server_repeats_is_redacted(make_bot: BotFactory) -> None:
    bot = make_bot()
    said = f"Incorrect API key provided: {SECRET}. Also sk-proj-abcdefghijklmnop."
    with pytest.raises(APIRequestError) as caught:
        bot.ask("Hi", **fail_once(status=401, message=said))
    assert SECRET not in str(caught.value) and "abcdefghijklmnop" not in str(caught.value)
    assert "Incorrect API key provided: sk-te***" in str(caught.value)


def test_no_server_there() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, and closed again: nothing listens there
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=SECRET, max_retries=0)
    bot = Chatbot(client=client, display=False)
    with pytest.raises(APIRequestError) as caught:
        bot.ask("Anyone?")
    assert "Could not reach the server" in str(caught.value) and SECRET not in str(caught.value)
    assert len(bot.history) == 0


def test_no_key_at_all_is_said_when_a_request_would_go_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    bot = Chatbot(display=False)  # no key needed to build it, read it, or show it
    assert DEFAULT_BASE_URL in repr(bot) and len(bot.history) == 0
    with pytest.raises(ChatnbError, match=r"Chatbot\.mock"):
        bot.ask("Hello?")
    with pytest.raises(ChatnbError, match="No API key"):
        asyncio.run(bot.aask("Hello?"))
    assert len(bot.history) == 0  # the question was taken back


def test_the_key_is_read_from_the_environment_and_not_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    bot = Chatbot()
    assert bot.client.api_key == SECRET and "127.0.0.1:9" in bot.base_url
    assert SECRET not in repr(bot)


def test_aask_builds_an_async_twin_of_a_plain_client_only() -> None:
    plain = Chatbot(
        client=openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key=SECRET, max_retries=0)
    )
    twin = plain.async_client
    assert isinstance(twin, openai.AsyncOpenAI) and str(twin.base_url) == "http://127.0.0.1:9/v1/"
    azure = openai.AzureOpenAI(
        api_key=SECRET, api_version="2024-06-01", azure_endpoint="http://127.0.0.1:9"
    )
    with pytest.raises(ChatnbError, match=r"async_client=openai\.AsyncAzureOpenAI"):
        _ = Chatbot(client=azure).async_client


def test_misspelled_sampling_options_are_caught() -> None:
    with pytest.raises(TypeError, match="Did you mean 'temperature'"):
        Chatbot.mock(templature=0.2)
    with pytest.raises(TypeError, match="set by the Chatbot"):
        Chatbot.mock().ask("hi", stream=False)


def test_a_question_that_cannot_fit_is_refused_before_sending() -> None:
    bot = Chatbot.mock(display=False, context_window=200, max_output_tokens=100)
    with pytest.raises(ChatnbError, match="newest message is too long"):
        bot.ask("word " * 500)
    assert len(bot.history) == 0


def test_without_display_nothing_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    bot = Chatbot.mock("Hi **there**", display=False)
    answer = bot.ask("x")
    assert answer == "Hi **there**" and not answer.shown
    assert shown(capsys) == ""


def test_a_second_interrupt_while_the_display_closes_leaves_no_orphaned_question(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chatnb.display import Views

    close, calls = Views.close, []

    def interrupted_close(self: Views) -> None:
        calls.append(self)
        if len(calls) == 1:
            raise KeyboardInterrupt  # the second Ctrl-C, while the first is being handled
        close(self)

    class Interrupting:
        appends_only = False

        def show(self, markdown: str) -> None:
            raise KeyboardInterrupt  # the first Ctrl-C, as the answer starts to show

        def replace(self, handle: Any, markdown: str) -> None:
            pass

        def note(self, text: str) -> None:
            pass

    bot = Chatbot.mock(REPLY, display=Interrupting())  # type: ignore[arg-type]
    monkeypatch.setattr(Views, "close", interrupted_close)
    with pytest.raises(KeyboardInterrupt):
        bot.ask("Hello?")
    roles = [m.role for m in bot.history]
    assert roles in ([], ["user", "assistant"])  # the question taken back, or answered in part
    if roles:
        assert bot.history.note(bot.history[-1]) == "interrupted"


def test_a_failed_ask_with_max_turns_changes_nothing() -> None:
    bot = Chatbot.mock(display=False, max_turns=2, context_window=2_000, max_output_tokens=500)
    bot.ask("first")
    bot.ask("second")
    before = [m.content for m in bot.history]
    failing = {"mock": {"failure": {"status": 401}}}
    with pytest.raises(AuthenticationError):
        bot.ask("third", extra_body=failing)
    assert [m.content for m in bot.history] == before  # the oldest turn is still there
    with pytest.raises(ContextBudgetError):
        bot.ask("word " * 3_000)
    assert [m.content for m in bot.history] == before
    bot.ask("third")  # committed: now the oldest turn goes
    assert [m.content for m in bot.history] == ["second", "second", "third", "third"]
