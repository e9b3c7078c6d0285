"""CPU time of one ``Chatbot.ask`` against a bare loop over the openai client's stream.

Both read the same 20 KB Markdown answer from the in-process mock at zero latency, through the
same openai client and transport. The bare loop, as in the openai quickstart::

    for chunk in client.chat.completions.create(..., stream=True):
        answer += chunk.choices[0].delta.content or ""

``ask`` does more: strict validation of every chunk, accumulation, history and token
accounting, and (second line) the streaming Markdown display, here into a sink that discards
what it is given so that only chatnb's own work is timed. The script prints the median CPU time
of each over several rounds and the ratios.

    python benchmarks/chatbot.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from chatnb import Chatbot, mock
from chatnb.mock import MarkdownSample

ROUNDS = 15
ANSWER = MarkdownSample(20_000, 11)


class DiscardingSink:
    """A display sink that shows nothing (the IOPub cost is benchmarks/streaming.py's)."""

    def show(self, markdown: str) -> int:
        return 0

    def replace(self, handle: Any, markdown: str) -> None:
        pass

    def note(self, text: str) -> None:
        pass


def cpu_seconds(work: Callable[[], Any]) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    client = mock.client(ANSWER)
    messages = [{"role": "user", "content": "Write a long answer."}]

    def bare() -> str:
        answer = ""
        stream = client.chat.completions.create(model="gpt-4o", messages=messages, stream=True)  # type: ignore[arg-type]
        for chunk in stream:
            if chunk.choices:
                answer += chunk.choices[0].delta.content or ""
        return answer

    def ask(display: Any) -> Callable[[], str]:
        bot = Chatbot.mock(ANSWER, model="gpt-4o", display=display)

        def one() -> str:
            bot.reset()
            return bot.ask("Write a long answer.")

        return one

    expected = bare()
    assert ask(False)() == expected == ask(DiscardingSink())()
    print(f"answer: {len(expected.encode()):,} bytes; median CPU time of {ROUNDS} rounds")
    baseline = cpu_seconds(bare)
    print(f"  bare openai stream loop        {baseline * 1000:7.1f} ms")
    for label, display in [
        ("ask, no display", False),
        ("ask, streaming Markdown", DiscardingSink()),
    ]:
        spent = cpu_seconds(ask(display))
        print(f"  {label:30} {spent * 1000:7.1f} ms = {spent / baseline:.2f}x the bare loop")


if __name__ == "__main__":
    main()
