"""Thinking models: <think> tags split out wherever the deltas cut them, the reasoning view's
discipline (live, bounded, folded once, safe), and a mock that thinks in every dialect."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatnb import Chatbot, mock
from chatnb.display import ReasoningView, TextSink
from chatnb.events import ContentDelta, ReasoningDelta
from chatnb.think_tags import ThinkTags

from .fakes import FakeClock, FakeSink

THOUGHT = "Step one.\n\nStep two: `a<b` and <img src=https://evil.example/x.png>."
ANSWER = "The answer is **4**.\n"


def _split(text: str, cuts: list[int]) -> tuple[str, str]:
    splitter, pieces, at = ThinkTags(), [], 0
    for cut in sorted(cuts):
        pieces += splitter.feed(text[at:cut])
        at = cut
    pieces += splitter.feed(text[at:]) + splitter.finish()
    reasoning = "".join(t for kind, t in pieces if kind == "reasoning")
    return reasoning, "".join(t for kind, t in pieces if kind == "content")


@given(cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=6))
def test_think_tags_are_split_out_wherever_the_deltas_cut(cuts: list[int]) -> None:
    text = f"<think>\n{THOUGHT}\n</think>\n\n{ANSWER}"
    cuts = [c for c in cuts if c <= len(text)]
    assert _split(text, cuts) == (THOUGHT, ANSWER)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No tags here. <think> later is text.", ("", "No tags here. <think> later is text.")),
        ("<thi", ("", "<thi")),  # an answer that only looks like the start of a tag
        ("\n<think>cut short by the token limit", ("cut short by the token limit", "")),
        ("<think></think>Direct.", ("", "Direct.")),
    ],
)
def test_think_tags_edge_cases(text: str, expected: tuple[str, str]) -> None:
    assert _split(text, list(range(len(text)))) == expected  # one character at a time
    assert _split(text, []) == expected


def test_the_view_shows_the_latest_reasoning_within_budget_then_folds_once() -> None:
    clock = FakeClock()
    sink = FakeSink()
    view = ReasoningView(sink, clock=clock)  # type: ignore[arg-type]
    reasoning = "".join(f"Thought number {i} about the question.\n\n" for i in range(400))
    for i in range(0, len(reasoning), 8):
        clock.advance(0.05)  # 20 renders a second allowed
        view.handle(ReasoningDelta(0, reasoning[i : i + 8], "reasoning"))
    (live,) = sink.outputs
    assert live.startswith("<details open><summary>Thinking… ")
    shown = [int(n) for n in re.findall(r"Thought number (\d+) ", live)]
    assert min(shown) > 300 and max(shown) >= 360  # a window on the newest reasoning
    assert sink.sent <= 1.5 * len(reasoning.encode()) + 2048  # O(n) bytes, like the answer
    view.handle(ContentDelta(0, "Answer"))
    view.close()
    (folded,) = sink.outputs
    started = 0.05  # the first reasoning delta; the answer came at the clock's last reading
    assert folded.startswith(f"<details><summary>Thought for {clock.now - started:.1f} s</summary>")
    quoted = "\n".join(f"> {line}" if line else ">" for line in reasoning.strip().split("\n"))
    assert quoted in folded and view.payload_bytes == sink.sent
    view.close()  # folding again sends nothing new
    assert view.payload_bytes == sink.sent


def test_the_reasoning_is_untrusted_text_in_safe_mode() -> None:
    sink = FakeSink()
    view = ReasoningView(sink, clock=lambda: 0.0)  # type: ignore[arg-type]
    view.handle(ReasoningDelta(0, THOUGHT + "\n```python\nunclosed = True", "think"))
    view.close()
    (folded,) = sink.outputs
    assert "<img" not in folded.replace("\\<img", "")  # escaped, shown as text
    assert "Step two:" in folded  # the rest of the line stays
    assert folded.rstrip().endswith("> ```\n\n</details>")  # the open fence is closed first


def test_in_a_terminal_the_reasoning_is_printed_as_it_comes() -> None:
    buffer = io.StringIO()
    bot = Chatbot.mock(ANSWER, reasoning="Hmm, two plus two.", display=TextSink(buffer))
    bot.ask("2+2?")
    assert buffer.getvalue().startswith("Thinking: Hmm, two plus two.\n(thought for ")
    assert buffer.getvalue().endswith(ANSWER)


@pytest.mark.parametrize("dialect", ["reasoning_content", "reasoning", "think-tags"])
def test_the_mock_thinks_in_every_dialect(dialect: Any) -> None:
    bot = Chatbot.mock(
        ANSWER, reasoning=THOUGHT, reasoning_dialect=dialect, chunking="chars", display=False
    )
    answer = bot.ask("2+2?")
    assert answer == ANSWER and answer.reasoning == THOUGHT
    usage = bot.usage.last
    assert usage is not None and usage.reasoning_tokens and usage.reasoning_tokens > 10
    assert usage.completion_tokens == usage.local_completion_tokens
    client = mock.client(ANSWER, reasoning=THOUGHT, reasoning_dialect=dialect)
    whole = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "2+2?"}],
    )
    message = whole.choices[0].message
    if dialect == "think-tags":
        assert message.content == f"<think>\n{THOUGHT}\n</think>\n\n{ANSWER}"
    else:
        assert message.content == ANSWER and getattr(message, dialect) == THOUGHT


def test_a_thinking_answer_is_saved_and_transcribed_with_its_reasoning(tmp_path: Any) -> None:
    bot = Chatbot.mock(ANSWER, reasoning="Because.", display=False)
    bot.ask("Why?")
    assert "<summary>Thinking</summary>\n\nBecause." in bot.to_markdown()
    loaded = Chatbot.load(bot.save(tmp_path / "s.json"), display=False)
    assert loaded.history.reasoning(loaded.history[-1]) == "Because."
    assert loaded.history.messages() == bot.history.messages()  # reasoning never in the prompt
