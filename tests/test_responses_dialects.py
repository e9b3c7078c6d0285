"""Every server's dialect of the Responses API, read as its provider meant it: the streams in
tests/fixtures/responses_dialects (written after each provider's docs: there is no network
here) through the pure reader, through a Chatbot with ``api="responses"`` against a server on
127.0.0.1 that speaks them, and frame by frame into a Chatbot in a kernel."""

from __future__ import annotations

import asyncio
import json
import random
import textwrap
from pathlib import Path
from typing import Any

import openai
import pytest

from chatnb import Chatbot
from chatnb.events import BuiltinToolStatus, Citation, ContentDelta, ReasoningDelta
from chatnb.stream import SSEDecoder
from chatnb.wire import ResponsesReader

from .kernel import Kernel
from .servers import RecordingServer

DIALECTS = Path(__file__).parent / "fixtures" / "responses_dialects"
EXPECTED: dict[str, dict[str, Any]] = json.loads((DIALECTS / "expected.json").read_text())
# A model chatnb knows nothing about: its limits and tokenizer, named.
LOCAL = {"context_window": 32_000, "max_output_tokens": 4_000, "encoding": "o200k_base"}


@pytest.fixture(params=sorted(EXPECTED))
def dialect(request: pytest.FixtureRequest) -> tuple[str, bytes, dict[str, Any]]:
    name: str = request.param
    return name, (DIALECTS / name).read_bytes(), EXPECTED[name]


def _read(body: bytes, seed: int) -> tuple[ResponsesReader, list[Any]]:
    """The stream fed in random pieces, as a network delivers it."""
    rng, at, decoder, reader, events = random.Random(seed), 0, SSEDecoder(), ResponsesReader(), []
    while at < len(body):
        step = rng.randint(1, 64)
        for sse in decoder.feed(body[at : at + step]):
            events += reader.frame(sse.data)
        at += step
    for sse in decoder.flush():
        events += reader.frame(sse.data)
    return reader, events


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_dialect_reads_as_its_provider_meant(
    dialect: tuple[str, bytes, dict[str, Any]], seed: int
) -> None:
    _, body, expected = dialect
    reader, events = _read(body, seed)
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    result = reader.result()
    (choice,) = result.choices
    assert choice.message.content == content == expected["content"]
    assert reasoning == expected["reasoning"]
    assert choice.finish_reason == expected["finish_reason"]
    usage = result.usage
    assert usage is not None and usage.prompt_tokens == expected["prompt_tokens"]
    details = usage.completion_tokens_details or {}
    assert details.get("reasoning_tokens") == expected.get("reasoning_tokens")
    cached = (usage.prompt_tokens_details or {}).get("cached_tokens")
    assert cached == expected.get("cached_tokens")
    cited = [e.url for e in events if isinstance(e, Citation)]
    assert cited == expected.get("citations", [])
    kinds = {e.kind for e in events if isinstance(e, BuiltinToolStatus)}
    assert kinds == set(expected.get("builtin", []))


def _bot(server: RecordingServer, base: str = "", **options: Any) -> Chatbot:
    url = server.url.removesuffix("/v1") + (base or "/v1")
    client = openai.OpenAI(base_url=url, api_key="sk-local", max_retries=0)
    return Chatbot("local-model", client=client, api="responses", **LOCAL, **options)


def test_a_chatbot_answers_in_every_dialect(
    dialect: tuple[str, bytes, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    name, body, expected = dialect
    with RecordingServer(body) as server:
        bot = _bot(server, "/openai/v1" if name == "azure.sse" else "")
        answer = bot.ask("First question")
        second = asyncio.run(bot.aask("Second question"))
    assert answer == second == expected["content"]
    assert answer.reasoning == expected["reasoning"]
    assert answer.finish_reason == expected["finish_reason"]
    assert [m.role for m in bot.history] == ["user", "assistant"] * 2
    paths = {seen.path for seen in server.requests}
    assert paths == {"/openai/v1/responses" if name == "azure.sse" else "/v1/responses"}
    # What the second request sends back: the answer as an assistant message, and the
    # reasoning item only where it can be: encrypted (Azure), or kept by a stateful server
    # that said so (LM Studio's store: true); an id alone, unstored, would be refused.
    sent = json.loads(server.requests[1].body)
    assert sent["store"] is False and "messages" not in sent
    replies = [i for i in sent["input"] if i.get("role") == "assistant"]
    assert [_text(i["content"]) for i in replies] == [expected["content"]]
    kept = [i for i in sent["input"] if i.get("type") == "reasoning"]
    assert bool(kept) == expected.get("sends_back_reasoning", False)
    shown = capsys.readouterr().out
    assert expected["content"].split("\n")[0] in shown
    for url in expected.get("citations", []):
        assert url in shown
    if expected.get("cached_tokens"):
        assert (
            bot.usage.last is not None and bot.usage.last.cached_tokens == expected["cached_tokens"]
        )


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content)


LIVE = """
import openai
from chatnb import Chatbot
client = openai.OpenAI(base_url={url!r}, api_key="sk-local", max_retries=0)
bot = Chatbot("local-model", client=client, api="responses", context_window=32_000,
              max_output_tokens=4_000, encoding="o200k_base")
answer = bot.ask("Question")
"""


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_in_a_kernel_each_dialect_streams_and_the_reasoning_folds(
    kernel: Kernel, name: str
) -> None:
    expected = EXPECTED[name]
    with RecordingServer((DIALECTS / name).read_bytes(), frame_delay_s=0.02) as server:
        run = kernel.run(textwrap.dedent(LIVE.format(url=server.url))).ok()
    kept = kernel.run("print(repr(str(bot.history[-1].content)), repr(answer.reasoning))").ok()
    assert kept.frontend.text() == f"{expected['content']!r} {expected['reasoning']!r}\n"
    shown = "\n".join(run.frontend.markdown())
    assert expected["content"].split("\n")[0] in shown
    if expected["reasoning"]:
        assert "<details><summary>Thought for " in shown  # folded above the answer
        assert shown.index("<details>") < shown.index(expected["content"].split("\n")[0])
