"""Experiments at scale, measured: 1,000 inputs x 4 variants on the in-process mock at 200 ms
time to first token and 10 ms between tokens, 64 at once.

1. Wall time of the concurrent run against two baselines measured in the same run:
   a. what a person would write by hand: ``asyncio.gather`` over every trial, the official
      ``AsyncOpenAI`` client streaming each answer, a semaphore of 64, the same scorer (the
      honest one: wall time and the client's CPU time, ``experiment()`` / hand-written);
   b. the same work run one trial after another (measured on a sample of trials and scaled
      to the whole grid: 4,000 trials one by one would take about 20 minutes).
2. Peak memory of the run (tracemalloc: Python allocations).
3. In a real kernel, with the progress bar and the table on: IOPub messages per second over
   the run (a frontend copes with well under 50), and how many of them there are.

    python benchmarks/experiment.py [--inputs 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from chatnb import Chatbot, experiment
from chatnb.experiments import contains
from tests.kernel import Kernel

VARIANTS = [
    {"name": "plain"},
    {"name": "brief", "system": "Be brief."},
    {"name": "warm", "temperature": 0.9},
    {"name": "mini", "model": "gpt-4o-mini"},
]
LATENCY = {"ttft_ms": 200, "itl_ms": 10}
SAMPLE = 40  # trials run one by one for the baseline


def inputs(count: int) -> list[str]:
    return [f"Question {n}: what is a context window?" for n in range(count)]


async def concurrent(count: int) -> tuple[float, int, float]:
    bot = Chatbot.mock(display=False, **LATENCY)
    tracemalloc.start()
    cpu, start = time.process_time(), time.perf_counter()
    results = await experiment(
        inputs(count), VARIANTS, concurrency=64, bot=bot, display=False,
        scorers=[contains("context")],
    )  # fmt: skip
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(results) == count * len(VARIANTS) and not [t for t in results if t.error]
    return wall, peak, used


def _messages(prompt: str, variant: dict[str, object]) -> list[dict[str, str]]:
    system = variant.get("system")
    user = [{"role": "user", "content": prompt}]
    return [{"role": "system", "content": str(system)}, *user] if system else user


async def gathered(count: int) -> tuple[float, float]:
    """The hand-written baseline: gather + AsyncOpenAI + a semaphore of 64, streamed answers
    scored by the same test. Wall seconds and CPU seconds."""
    from chatnb import mock
    from chatnb.clients import Clients

    spec = mock.client_spec(mock.MockOptions(**LATENCY))  # type: ignore[arg-type]
    client = Clients.from_spec(spec).asynchronous
    gate = asyncio.Semaphore(64)

    async def trial(prompt: str, variant: dict[str, object]) -> bool:
        options = {k: v for k, v in variant.items() if k in ("temperature",)}
        async with gate:
            stream = await client.chat.completions.create(
                model=str(variant.get("model", "gpt-4o-mini")),
                messages=_messages(prompt, variant),  # type: ignore[arg-type]
                stream=True,
                **options,  # type: ignore[arg-type]
            )
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        return "context" in text.lower()

    cpu, start = time.process_time(), time.perf_counter()
    jobs = [trial(p, v) for p in inputs(count) for v in VARIANTS]
    scores = await asyncio.gather(*jobs)
    assert len(scores) == count * len(VARIANTS)
    return time.perf_counter() - start, time.process_time() - cpu


async def one_by_one() -> float:
    """Seconds per trial when trials run one after another (the same Chatbot and settings)."""
    bot = Chatbot.mock(display=False, **LATENCY)
    start = time.perf_counter()
    await experiment(inputs(SAMPLE), VARIANTS[:1], concurrency=1, bot=bot, display=False)
    return (time.perf_counter() - start) / SAMPLE


def iopub_rate(count: int) -> tuple[float, int, float]:
    kernel = Kernel()
    try:
        setup = f"""
            from chatnb import Chatbot, experiment
            from chatnb.experiments import contains
            bot = Chatbot.mock(display=False, ttft_ms={LATENCY["ttft_ms"]}, itl_ms={LATENCY["itl_ms"]})
            inputs = [f"Question {{n}}: what is a context window?" for n in range({count})]
            variants = {VARIANTS!r}
        """
        kernel.run(textwrap.dedent(setup)).ok()
        run = kernel.run(
            "results = await experiment(inputs, variants, concurrency=64, bot=bot, "
            "scorers=[contains('context')])",
            timeout=1200,
        ).ok()
    finally:
        kernel.close()
    stamps = [m["header"]["date"] for m in run.messages]
    seconds = max((stamps[-1] - stamps[0]).total_seconds(), 1e-9)
    busiest = max_per_second([s.timestamp() for s in stamps])
    return len(run.messages) / seconds, len(run.messages), busiest


def max_per_second(stamps: list[float]) -> float:
    start, best = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] > 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=1_000)
    count = parser.parse_args().inputs
    trials = count * len(VARIANTS)
    per_trial = asyncio.run(one_by_one())
    hand_wall, hand_cpu = asyncio.run(gathered(count))
    wall, peak, cpu = asyncio.run(concurrent(count))
    print(f"{count:,} inputs x {len(VARIANTS)} variants = {trials:,} trials, in-process mock at "
          f"{LATENCY['ttft_ms']} ms TTFT / {LATENCY['itl_ms']} ms ITL")  # fmt: skip
    print(f"  one by one (baseline, {SAMPLE} trials measured): {per_trial:.3f} s per trial, "
          f"{per_trial * trials:,.0f} s for the grid")  # fmt: skip
    print(f"  gather + AsyncOpenAI + semaphore(64) (baseline): {hand_wall:,.1f} s, "
          f"{hand_cpu:,.1f} s CPU")  # fmt: skip
    print(f"  experiment(), concurrency 64:                  {wall:,.1f} s, {cpu:,.1f} s CPU")
    print(f"  against gather (the honest figure):            {wall / hand_wall:,.2f}x the wall "
          f"time, {cpu / hand_cpu:,.2f}x the CPU time (experiment / hand-written)")  # fmt: skip
    print(f"  against one by one:                            {per_trial * trials / wall:,.1f}x "
          "faster")  # fmt: skip
    print(f"  peak memory (Python allocations):              {peak / 2**20:,.1f} MiB")
    rate, messages, busiest = iopub_rate(count)
    print(f"  in a kernel: {messages:,} IOPub messages, {rate:.1f} per second on average, "
          f"{busiest:.0f} in the busiest second (limit: 50)")  # fmt: skip


if __name__ == "__main__":
    main()
