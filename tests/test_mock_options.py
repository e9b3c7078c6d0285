"""The mock's options are written once: the engine, the per-request overrides, Chatbot.mock,
the in-process clients and the flags of ``chatnb serve`` all come from MockOptions. The engine
plans an answer; an encoder writes the plan as Chat Completions frames."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from chatnb import Chatbot, cli, mock
from chatnb.mock import MockOptions, MockOverrides, chat_completions
from chatnb.mock.options import from_arguments
from chatnb.mock.plan import AnswerPlan, ChoicePlan, Text
from chatnb.stream import SSEDecoder, StreamAccumulator, iter_chunks

MESSAGES = [{"role": "user", "content": "Hi"}]


def _serve_flags() -> set[str]:
    serve = cli._parser()._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    return {flag for action in serve._actions for flag in action.option_strings}


def test_every_option_is_a_flag_and_a_request_override() -> None:
    fields = set(MockOptions.model_fields)
    assert {f"--{name.replace('_', '-')}" for name in fields} <= _serve_flags()
    assert set(MockOverrides.model_fields) == fields - {"seed"}


def test_flags_reach_the_options() -> None:
    args = cli._parser().parse_args(
        ["serve", "--reply", "markdown:300", "--itl-ms", "3", "--failure", '{"status": 429}']
    )
    options = from_arguments(args)
    assert options == MockOptions(
        reply=mock.MarkdownSample(300), itl_ms=3, failure=mock.Failure(status=429)
    )
    assert from_arguments(cli._parser().parse_args(["serve"])) == MockOptions()
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["serve", "--chunking", "sentences"])


def _create(client: openai.OpenAI, overrides: dict[str, Any]) -> Any:
    return client.chat.completions.create(
        model="gpt-4o",
        messages=MESSAGES,  # type: ignore[arg-type]
        extra_body={"mock": overrides},
    )


def test_a_request_overrides_with_the_same_rules() -> None:
    client = mock.client("fixed", max_retries=0)
    sample = _create(client, {"reply": "markdown:200"}).choices[0].message.content
    assert sample == mock.markdown_sample(200)
    with pytest.raises(openai.BadRequestError) as caught:
        _create(client, {"ttft_ms": -1})
    assert caught.value.body["param"] == "mock.ttft_ms"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError):
        _create(client, {"seed": 3})  # the engine's, not a request's
    assert _create(client, {}).choices[0].message.content == "fixed"


def test_chatbot_mock_splits_mock_options_from_its_own() -> None:
    bot = Chatbot.mock("Hello", itl_ms=1, chunking="words", system="S", temperature=0.1)
    assert bot.sampling == {"temperature": 0.1} and bot.history.system == "S"
    with pytest.raises(TypeError, match="Did you mean 'itl_ms'"):
        Chatbot.mock(itl_msec=1)


def test_an_encoder_writes_any_plan_as_frames_the_client_reads_back() -> None:
    plan = AnswerPlan(
        model="gpt-4o",
        choices=(
            ChoicePlan((Text(("Hel", "lo")),), "stop"),
            ChoicePlan((Text(("Cut",)),), "length"),
        ),
        prompt_tokens=7,
        completion_tokens=3,
    )
    body = b"".join(data for _, data in chat_completions.stream_frames(plan, include_usage=True))
    acc = StreamAccumulator()
    for chunk in iter_chunks(SSEDecoder().feed(body)):
        acc.add(chunk)
    result = acc.result()
    assert [c.message.content for c in result.choices] == ["Hello", "Cut"]
    assert [c.finish_reason for c in result.choices] == ["stop", "length"]
    assert result.usage is not None and result.usage.total_tokens == 10
    assert chat_completions.completion(plan).choices[1].message.content == "Cut"
