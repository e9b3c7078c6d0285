"""One ask's history bookkeeping (append + fit): chatnb against the naive recipe.

The naive recipe, as found in tutorials: keep a deque, and after each removal re-count the
whole history with tiktoken until it fits. Both run here, on the same messages, in the same
process; the script prints the time per ask and the ratio, at 500 and 5,000 messages.

    python benchmarks/history.py
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from chatnb.history import History
from chatnb.tokens import count_tokens, encoding_for

ASKS = 200
MODEL = "gpt-4o"


def message(role: str, i: int) -> dict[str, Any]:
    return {"role": role, "content": f"{role} message {i}: " + "some words of a chat " * 6}


def naive_ask(history: deque[dict[str, Any]], question: dict[str, Any], budget: int) -> None:
    encoding = encoding_for(MODEL)
    history.append(question)

    def recount() -> int:  # what the recipe does: every message, every time
        total = 3
        for m in history:
            total += 3 + encoding.count(m["role"]) + encoding.count(m["content"])
        return total

    while recount() > budget and history:
        history.popleft()


def chatnb_ask(history: History, question: dict[str, Any], budget: int) -> None:
    history.append(question)
    history.fit(budget)


def run(size: int) -> tuple[float, float]:
    seed = [message("user" if i % 2 == 0 else "assistant", i) for i in range(size)]
    budget = count_tokens(seed, MODEL)
    naive: deque[dict[str, Any]] = deque(seed)
    ours = History(model=MODEL)
    ours.extend(seed)
    ours.fit(budget)

    timings = []
    for ask in (
        lambda i: naive_ask(naive, message("user", size + i), budget),
        lambda i: chatnb_ask(ours, message("user", size + i), budget),
    ):
        start = time.perf_counter()
        for i in range(ASKS):
            ask(i)
        timings.append((time.perf_counter() - start) / ASKS)
    assert len(ours) >= size - 2 * ASKS - 2  # both really trimmed, neither emptied
    return timings[0], timings[1]


def main() -> None:
    print(f"history bookkeeping per ask ({ASKS} asks, model {MODEL}, budget = history at capacity)")
    print(f"{'messages':>9} {'naive':>12} {'chatnb':>12} {'naive/chatnb':>13}")
    results = {}
    for size in (500, 5_000):
        naive, ours = run(size)
        results[size] = ours
        print(f"{size:>9,} {naive * 1e3:>10.2f}ms {ours * 1e6:>10.1f}us {naive / ours:>12.0f}x")
    growth = results[5_000] / results[500]
    print(f"chatnb cost at 5,000 messages / at 500: {growth:.2f}x (flat = does not grow)")


if __name__ == "__main__":
    main()
