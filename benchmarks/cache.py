"""Record and replay, measured: a replayed 20 KB answer against the live in-process mock, and
the run log's cost per exchange as it grows from 1,000 rows to 100,000.

1. CPU time of ``bot.ask`` for a 20 KB Markdown answer (4,459 chunks), no display: live from
   the in-process mock at zero latency (the baseline), and replayed from the cache (the same
   bytes, in the same pieces). A replay must not be slower than the fastest live source.
2. Time to append one exchange to the run log when it already holds 1,000 rows and when it
   holds 100,000 (filled in bulk first): flat means the log does not slow down as it grows.

    python benchmarks/cache.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chatnb import Chatbot
from chatnb.cache import Cache
from chatnb.mock import MarkdownSample
from chatnb.runlog import Entry, RunLog
from chatnb.store import Store

ROUNDS = 15
ANSWER = MarkdownSample(20_000, 11)


def cpu_seconds(work: Callable[[], Any], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return statistics.median(times)


def replay_against_live(folder: Path) -> None:
    live = Chatbot.mock(ANSWER, model="gpt-4o", display=False)
    cache = Cache(folder / "replay.sqlite")
    cached = Chatbot.mock(ANSWER, model="gpt-4o", display=False, cache=cache)
    expected = cached.ask("Write a long answer.")  # recorded once

    def replayed() -> None:
        cache.mode = "replay"
        cache.rewind()  # each round is a re-run: the first sample again
        cached.reset()
        assert cached.ask("Write a long answer.") == expected
        assert cached.usage.last is not None

    def asked_live() -> None:
        live.reset()
        live.ask("Write a long answer.")

    baseline, replay = cpu_seconds(asked_live), cpu_seconds(replayed)
    print(f"20 KB answer ({len(expected.encode()):,} bytes), median CPU time of {ROUNDS} asks:")
    print(f"  live, in-process mock at zero latency  {baseline * 1000:7.1f} ms")
    print(
        f"  replayed from the cache                {replay * 1000:7.1f} ms = {replay / baseline:.2f}x"
    )


def _entry(i: int) -> Entry:
    return Entry(
        model="gpt-4o",
        host="api.example",
        options={"temperature": 0.2},
        messages=[{"role": "user", "content": f"Question {i}?"}],
        outcome="answered",
        answer=f"Answer {i}.",
        prompt_tokens=12,
        completion_tokens=40,
        cost_usd=0.0001,
        total_s=1.0,
        cache="miss",
    )


def append_cost(folder: Path, rows: int) -> float:
    """Seconds to append one exchange to a log that holds ``rows`` already (median of 200)."""
    log = RunLog(Store(folder / f"log-{rows}.sqlite"))
    bulk = [_entry(i) for i in range(rows)]
    for entry in bulk[:10]:  # the real path, then the rest in bulk, as fast as SQLite goes
        log.append(entry)
    with log.store.db:
        log.store.db.executemany(
            "INSERT INTO runs (at, model, host, options, messages, outcome, answer) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(time.time(), e.model, e.host, "{}", "[]", e.outcome, e.answer) for e in bulk[10:]],
        )
    times = []
    for i in range(200):
        start = time.perf_counter()
        log.append(_entry(rows + i))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        replay_against_live(Path(folder))
        small, large = append_cost(Path(folder), 1_000), append_cost(Path(folder), 100_000)
    print("run log, one exchange appended (median of 200):")
    print(f"  at   1,000 rows  {small * 1e6:7.0f} us")
    print(f"  at 100,000 rows  {large * 1e6:7.0f} us = {large / small:.2f}x (flat: does not grow)")


if __name__ == "__main__":
    main()
