"""The errors a newcomer meets first, each one paragraph that says what to do: a question that
is not a str, an option or a variant key with a typo, a value the server names, a base URL
that is not an OpenAI-compatible API (a web page, another API's 404, no /v1)."""

from __future__ import annotations

import asyncio

import pytest

import chatnb
from chatnb import Chatbot
from chatnb.errors import (
    APIRequestError,
    ArgumentError,
    BadRequestError,
    ChatnbError,
    NotFoundError,
    OptionError,
    PermissionDeniedError,
)
from chatnb.mock import MockServer

from .servers import RecordingServer

KEY = "sk-newcomer-0123456789abcdefghijklmnop"


@pytest.mark.parametrize("prompt", [42, None, {"text": "hi"}, ["hi", "there"], b"hi"])
def test_a_question_that_is_not_a_str_says_what_ask_takes(prompt: object) -> None:
    bot = Chatbot.mock("unused", display=False)
    with pytest.raises(ArgumentError, match=r"ask\(\) takes the question as a str") as raised:
        bot.ask(prompt)  # type: ignore[arg-type]
    assert isinstance(raised.value, TypeError) and isinstance(raised.value, ChatnbError)
    with pytest.raises(ArgumentError):
        asyncio.run(bot.aask(prompt))  # type: ignore[arg-type]
    assert len(bot.history) == 0 and bot.usage.answers == 0


def test_a_question_of_content_parts_is_still_a_question() -> None:
    bot = Chatbot.mock("Seen.", display=False)
    parts = [{"type": "text", "text": "What is this?"}]
    assert bot.ask(parts) == "Seen."  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "suggested"),
    [
        (lambda: Chatbot.mock("x", temprature=1), "temperature"),
        (lambda: Chatbot(sytem="Be brief.", api_key=KEY), "system"),  # not 'stream'
        (lambda: Chatbot.mock("x", display=False).ask("hi", temprature=1), "temperature"),
        (lambda: Chatbot.mock("x", display=False).ask("hi", max_step=2), "max_steps"),
    ],
)
def test_an_option_typo_is_an_option_error_with_the_closest_name(
    make: object, suggested: str
) -> None:
    with pytest.raises(OptionError, match=f"Did you mean {suggested!r}") as raised:
        make()  # type: ignore[operator]
    assert isinstance(raised.value, TypeError)  # as Python's own for a wrong keyword
    assert "extra_body=" in str(raised.value)


def test_an_option_the_chatbot_sets_says_what_to_do_instead() -> None:
    bot = Chatbot.mock("x", display=False)
    with pytest.raises(OptionError, match=r"set bot\.model"):
        bot.ask("hi", model="gpt-4o")


@pytest.mark.parametrize(
    ("variants", "said"),
    [
        ([{"nmae": "short"}], "Variant 1: 'nmae' .* Did you mean 'name'\\?"),
        ([{}, {"name": "b", "sytem": "Be brief."}], "Variant 2: 'sytem' .* Did you mean 'system'"),
        ([{"temprature": 0}], "Variant 1: .* Did you mean 'temperature'"),
        (["gpt-4o"], "Variant 1 is a str \\('gpt-4o'\\)\\. A variant is a dict"),
    ],
)
def test_a_variant_key_typo_names_the_variant_and_the_closest_key(
    variants: list[object], said: str
) -> None:
    bot = Chatbot.mock("x", display=False)
    for run in (
        lambda: chatnb.experiment(["a"], variants, bot=bot, display=False),  # type: ignore[arg-type]
        lambda: chatnb.compare("a", variants, bot=bot, display=False),  # type: ignore[arg-type]
    ):
        with pytest.raises(ArgumentError, match=said):
            asyncio.run(run())


def test_a_value_the_server_refuses_keeps_the_param_it_named() -> None:
    bot = Chatbot.mock("x", display=False)
    with pytest.raises(BadRequestError) as raised:
        bot.ask("hi", temperature=3)
    error = raised.value
    assert error.param == "temperature" and error.status == 400
    assert "naming 'temperature'" in str(error)
    assert "Check the value given for temperature=" in str(error)


PAGE = b"<!DOCTYPE html><html><head><title>Welcome</title></head><body>Hi</body></html>"


@pytest.mark.parametrize(
    ("status", "content_type", "body", "kind", "found"),
    [
        (403, "text/html", PAGE, PermissionDeniedError, "403 with an HTML page ('Welcome')"),
        (404, "application/json", b'{"detail":"Not Found"}', NotFoundError, "JSON of another"),
        (404, "text/plain", b"", NotFoundError, "404 with an empty body"),
        (405, "text/plain", b"Method Not Allowed", APIRequestError, "text ('Method Not"),
        (200, "text/html", PAGE, APIRequestError, "with a web page (text/html)"),
    ],
)
def test_a_server_that_is_no_openai_api_is_said_so(
    status: int, content_type: str, body: bytes, kind: type[APIRequestError], found: str
) -> None:
    with RecordingServer(body, content_type=content_type, status=status) as server:
        root = server.url.removesuffix("/v1").replace("http://", "http://me:hunter2@")
        bot = Chatbot(base_url=root, api_key=KEY, display=False)
        with pytest.raises(kind) as raised:
            bot.ask("hi")
    said = str(raised.value)
    assert "does not look like an OpenAI-compatible API" in said and found in said
    assert f"try base_url='{root.replace('me:hunter2', '***')}/v1'" in said  # redacted
    assert "hunter2" not in said and KEY not in said
    assert "The key may not use" not in said
    assert len(bot.history) == 0


def test_an_openai_shaped_refusal_keeps_the_servers_words() -> None:
    body = b'{"error": {"message": "You may not use gpt-5.", "type": "x", "code": "denied"}}'
    with RecordingServer(body, content_type="application/json", status=403) as server:
        bot = Chatbot(base_url=server.url, api_key=KEY, display=False)
        with pytest.raises(PermissionDeniedError, match="The key may not use") as raised:
            bot.ask("hi")
    assert 'The server said: "You may not use gpt-5."' in str(raised.value)


def test_the_mock_without_v1_fails_as_a_real_server_does_and_says_where() -> None:
    with MockServer() as server:
        root = server.url.removesuffix("/v1")
        with pytest.raises(NotFoundError) as raised:
            Chatbot(base_url=root, api_key=KEY, display=False).ask("hi")
        assert f"try base_url='{root}/v1'" in str(raised.value)
        assert "end the base URL with /v1" in str(raised.value)
        assert Chatbot(base_url=server.url, api_key=KEY, display=False).ask("hi") == "hi"
