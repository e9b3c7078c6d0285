"""Every OpenAI-compatible dialect chatnb meets, read as its provider meant it: the streams in
tests/fixtures/dialects (written after each provider's docs) through the pure reader, and
through a Chatbot against a real server on 127.0.0.1 that speaks them."""

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
from chatnb.errors import StreamErrorFrame
from chatnb.events import ContentDelta, ReasoningDelta
from chatnb.stream import SSEDecoder, StreamAccumulator, iter_chunks

from .kernel import Kernel
from .servers import RecordingServer

DIALECTS = Path(__file__).parent / "fixtures" / "dialects"
EXPECTED: dict[str, dict[str, Any]] = json.loads((DIALECTS / "expected.json").read_text())


@pytest.fixture(params=sorted(EXPECTED))
def dialect(request: pytest.FixtureRequest) -> tuple[bytes, dict[str, Any]]:
    name: str = request.param
    return (DIALECTS / name).read_bytes(), EXPECTED[name]


def _read(body: bytes, seed: int) -> tuple[StreamAccumulator, str, str]:
    """The stream fed in random pieces; the accumulated reply and the text of its events."""
    pieces, rng, at = [], random.Random(seed), 0
    while at < len(body):
        step = rng.randint(1, 64)
        pieces.append(body[at : at + step])
        at += step
    decoder, acc, content, reasoning = SSEDecoder(), StreamAccumulator(), "", ""
    for piece in [*pieces, b""]:
        events = decoder.feed(piece) if piece else decoder.flush()
        for chunk in iter_chunks(events):
            for event in acc.add(chunk):
                if isinstance(event, ContentDelta):
                    content += event.text
                elif isinstance(event, ReasoningDelta):
                    reasoning += event.text
    return acc, content, reasoning


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_dialect_reads_as_its_provider_meant(
    dialect: tuple[bytes, dict[str, Any]], seed: int
) -> None:
    body, expected = dialect
    acc, content, reasoning = _read(body, seed)
    result = acc.result()
    (choice,) = result.choices
    assert choice.message.content == content == expected["content"]
    assert acc.choices[0].reasoning == reasoning == expected["reasoning"]
    assert choice.finish_reason == expected["finish_reason"]
    assert (result.usage.prompt_tokens if result.usage else None) == expected["prompt_tokens"]
    details = (result.usage.completion_tokens_details or {}) if result.usage else {}
    assert details.get("reasoning_tokens") == expected.get("reasoning_tokens")


def test_an_error_frame_with_an_integer_code_keeps_the_partial_answer() -> None:
    with pytest.raises(StreamErrorFrame) as caught:
        _read((DIALECTS / "vllm_error.sse").read_bytes(), 0)
    assert caught.value.code == 500 and "KV cache" in str(caught.value)
    with RecordingServer((DIALECTS / "vllm_error.sse").read_bytes()) as server:
        bot = _bot(server)
        with pytest.raises(StreamErrorFrame) as asked:
            bot.ask("Go")
    assert asked.value.partial == "Working on" and bot.history[-1].content == "Working on"


def _bot(server: RecordingServer, **options: Any) -> Chatbot:
    client = openai.OpenAI(base_url=server.url, api_key="sk-local", max_retries=0)
    return Chatbot("local-model", client=client, **LOCAL, **options)


# A local model chatnb knows nothing about: its limits and tokenizer, named.
LOCAL = {"context_window": 32_000, "max_output_tokens": 4_000, "encoding": "o200k_base"}


def test_a_chatbot_answers_in_every_dialect_and_keeps_the_reasoning_to_itself(
    dialect: tuple[bytes, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    body, expected = dialect
    with RecordingServer(body) as server:
        bot = _bot(server)
        answer = bot.ask("First question")
        second = asyncio.run(bot.aask("Second question"))
    assert answer == second == expected["content"]
    assert (
        answer.reasoning == expected["reasoning"]
        and answer.finish_reason == expected["finish_reason"]
    )
    assert [m.role for m in bot.history] == ["user", "assistant"] * 2
    assert bot.history.reasoning(bot.history[1]) == (expected["reasoning"] or None)
    sent_back = json.loads(server.requests[1].body)["messages"][1]
    assert sent_back == {"role": "assistant", "content": expected["content"]}
    shown = capsys.readouterr().out
    assert expected["content"] in shown and expected["reasoning"] in shown
    if expected.get("reasoning_tokens"):
        assert bot.usage.last is not None
        assert bot.usage.last.reasoning_tokens == expected["reasoning_tokens"]
        assert f"({expected['reasoning_tokens']} reasoning)" in str(bot.usage)


def test_an_answer_stopped_by_a_content_filter_is_explained(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with RecordingServer((DIALECTS / "azure_content_filter.sse").read_bytes()) as server:
        answer = _bot(server).ask("Something the filter dislikes")
    assert answer == "Here is how" and answer.finish_reason == "content_filter"
    assert "content filter stopped this answer" in capsys.readouterr().out


def test_show_reasoning_false_hides_it_but_keeps_it(capsys: pytest.CaptureFixture[str]) -> None:
    with RecordingServer((DIALECTS / "deepseek.sse").read_bytes()) as server:
        answer = _bot(server, show_reasoning=False).ask("How many r's in strawberry?")
    shown = capsys.readouterr().out
    assert "Strawberry:" not in shown and "three** r's" in shown
    assert answer.reasoning.startswith("Strawberry:")


LIVE = """
import openai
from chatnb import Chatbot
client = openai.OpenAI(base_url={url!r}, api_key="sk-local", max_retries=0)
bot = Chatbot("local-model", client=client, context_window=32_000, max_output_tokens=4_000,
              encoding="o200k_base")
answer = bot.ask("Question")
"""


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_in_a_kernel_the_reasoning_streams_open_then_folds_above_the_answer(
    kernel: Kernel, name: str
) -> None:
    expected = EXPECTED[name]
    with RecordingServer((DIALECTS / name).read_bytes(), frame_delay_s=0.06) as server:
        run = kernel.run(textwrap.dedent(LIVE.format(url=server.url))).ok()
    kept = kernel.run(
        "print(repr(bot.history[-1].content), repr(bot.history.reasoning(bot.history[-1])))"
    )
    assert (
        kept.ok().frontend.text() == f"{expected['content']!r} {expected['reasoning'] or None!r}\n"
    )
    shown = run.frontend.markdown()
    if not expected["reasoning"]:  # Azure: an answer like any other
        assert "".join(shown) == expected["content"]
        return
    sent = [
        m["content"]["data"]["text/markdown"]
        for m in run.display_messages()
        if "text/markdown" in m["content"]["data"]
    ]
    live = [s for s in sent if s.startswith("<details open><summary>Thinking…")]
    assert live, sent  # shown while the model thinks
    assert expected["reasoning"].split()[0] in live[0]
    folded, *answer = shown
    assert folded.startswith("<details><summary>Thought for ")
    assert expected["reasoning"].split("\n")[0] in folded
    assert "".join(answer) == expected["content"]
    assert sent.index(live[0]) < sent.index(answer[0])  # the reasoning came first, above


def test_in_a_widget_the_reasoning_folds_above_the_answer(kernel: Kernel) -> None:
    run = kernel.run(
        textwrap.dedent(
            """
            import ipywidgets
            from chatnb import Chatbot
            box = ipywidgets.VBox()
            bot = Chatbot.mock("The answer.", reasoning="Careful thought.", itl_ms=5)
            answer = await bot.aask("Q", output=box)
            """
        )
    ).ok()
    folded, answer = run.frontend.widget_markdown()
    assert folded.startswith("<details><summary>Thought for ") and "> Careful thought." in folded
    assert answer == "The answer."
