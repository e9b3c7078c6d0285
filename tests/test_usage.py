"""The usage line: tokens/s is the model's pace, from its first token to its last."""

from __future__ import annotations

from chatnb import Chatbot
from chatnb.usage import TurnUsage


def test_tokens_per_second_are_counted_between_the_first_and_the_last_token() -> None:
    # 2 s in all: 0.5 s to the first token, 0.5 s of tokens, then 1 s drawing and counting
    # (a fresh kernel's first answer): the model streamed 100 tokens in 0.5 s.
    usage = TurnUsage(10, 100, 10, 100, ttft_s=0.5, total_s=2.0, stream_s=0.5)
    assert usage.line() == "(10 + 100 tokens, 2.0 s, 200 tokens/s)"


def test_a_usage_without_a_measured_stream_falls_back_to_first_token_to_end() -> None:
    usage = TurnUsage(10, 100, 10, 100, ttft_s=0.5, total_s=2.5)
    assert usage.line() == "(10 + 100 tokens, 2.5 s, 50 tokens/s)"


def test_an_answer_measures_its_stream_within_its_time() -> None:
    bot = Chatbot.mock("One two three four five six.", display=False, itl_ms=1)
    usage = bot.ask("Count.").usage
    assert usage is not None and usage.stream_s is not None
    assert usage.ttft_s is not None and usage.total_s is not None
    assert 0 < usage.stream_s <= usage.total_s - usage.ttft_s
