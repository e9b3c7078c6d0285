"""How far behind, and at what cost: the streaming display on every answer shape and rate.

Part 1, on a simulated clock (exact and fast, in this process): each answer shape is fed to
``MarkdownStream`` in 4-character tokens at 10, 40, 100 and 200 tokens a second, with the
timer's ticks simulated between tokens. For each it prints the largest gap between two
updates of the screen while tokens flow, token-to-screen p50/p99, the outputs used, the Markdown
payload and the live appends over the answer's bytes, and the CPU per KB against the mixed
20 KB answer (the baseline, measured in the same run: a flat column means linear cost).

Part 2, in a real kernel: the mixed 20 KB answer in its gpt-4o tokens through
``MarkdownStream`` and through the naive recipe found in tutorials::

    handle = display(Markdown(""), display_id=True)
    for token in stream:
        answer += token
        handle.update(Markdown(answer))

counting what went over IOPub (what the Jupyter server forwards to the browser): messages, the
busiest second, the Markdown payload, the whole messages with their JSON envelopes, and the
kernel's CPU.

    python benchmarks/streaming.py            # both parts (part 2 at 100 tokens/s: a minute)
    python benchmarks/streaming.py --fast     # part 2 at full speed only
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chatnb.display import MarkdownStream
from chatnb.display.live_markdown import LiveMarkdown
from chatnb.display.live_text import LiveText
from chatnb.display.markdown_stream import RENDER_INTERVAL_S
from chatnb.mock.replies import markdown_sample
from tests.kernel import Kernel, Run

RATES = (10, 40, 100, 200)


def table(rows: int) -> str:
    lines = ["| step | tokens | note |", "|---|---:|---|"]
    lines += [
        f"| `step {i}` | {i * 37 % 1000} | a note on step {i} of the table |" for i in range(rows)
    ]
    return "\n".join(lines) + "\n"


def bullets(items: int) -> str:
    return "".join(f"- item {i}: **bold** and `code` in a long list\n" for i in range(items))


def code_block(size: int) -> str:
    lines, total = ["```python\n"], 10
    i = 0
    while total < size:
        line = f"    value_{i} = compute(step={i}, items=items[{i}:])  # line {i}\n"
        lines.append(line)
        total += len(line)
        i += 1
    return "".join(lines) + "```\n"


STALL_TRIGGERS = (
    "# Stall triggers\n\nThe interval is $[3.9, 4.5]$ and $\\left[ x \\right]$ grows.\n\n"
    "- [x] done\n- [ ] open\n\nA claim[^1] and a [reference][later].\n\n"
    "> [!NOTE]\n> A GitHub alert.\n\n"
    + markdown_sample(6_000, 11)
    + "\n[^1]: The footnote.\n\n[later]: https://example.com/later\n"
)

SHAPES: dict[str, str] = {
    "mixed 20 KB": markdown_sample(20_000, 7),
    "mixed 100 KB": markdown_sample(100_000, 7),
    "table 40 KB": table(620),
    "long list 20 KB": bullets(420),
    "code block 20 KB": code_block(20_000),
    "code block 100 KB": code_block(100_000),
    "stall triggers": STALL_TRIGGERS,
    "one paragraph 400 KB": "word " * 80_000,
}


class SimulatedScreen:
    """A sink that keeps nothing but counts: outputs opened, live outputs. ``renders_live``:
    the frontend renders the live widget's Markdown (JupyterLab), else the fallback path."""

    def __init__(self, renders_live: bool) -> None:
        self.outputs = 0
        self.renders_live = renders_live

    def show_live_markdown(self) -> LiveMarkdown:
        self.outputs += 1
        return LiveMarkdown(_Widget(), None)

    def show(self, markdown: str) -> int:
        self.outputs += 1
        return self.outputs

    def replace(self, handle: Any, markdown: str) -> None:
        pass

    def settle(self, live: Any, markdown: str) -> Any:
        return live

    def note(self, text: str) -> None:
        pass

    def show_live(self) -> LiveText:
        self.outputs += 1
        return LiveText(_Widget(), None)


class _Widget:
    """A live-text widget that sends nothing (the stream counts what it would send)."""

    def send(self, message: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


def percentiles(
    arrivals: list[tuple[float, int]], updates: list[tuple[float, int]]
) -> tuple[float, float]:
    """p50 and p99 of the time from each token's arrival to the first update that covers it."""
    latencies, u = [], 0
    end = arrivals[-1][0]
    for at, chars in arrivals:
        while u < len(updates) and updates[u][1] < chars:
            u += 1
        latencies.append((updates[u][0] if u < len(updates) else end) - at)
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return cuts[49], cuts[98]


def simulate(text: str, rate: float, renders_live: bool = True) -> dict[str, float]:
    """Feed ``text`` in 4-character tokens at ``rate`` a second on a simulated clock."""
    now = [0.0]
    screen = SimulatedScreen(renders_live)
    stream = MarkdownStream(sink=screen, clock=lambda: now[0], footer=lambda: "12 tokens")
    tokens = [text[i : i + 4] for i in range(0, len(text), 4)]
    tick = RENDER_INTERVAL_S / 2
    arrivals: list[tuple[float, int]] = []
    received = 0
    next_tick = tick
    started = time.process_time()
    for index, token in enumerate(tokens):
        at = index / rate
        while next_tick < at:  # the timer thread's ticks between two tokens
            now[0] = next_tick
            stream.tick()
            next_tick += tick
        now[0] = at
        stream.feed(token)
        received += len(token)
        arrivals.append((at, received))
    stream.close()
    cpu = time.process_time() - started
    updates = stream.updates
    flowing = [t for t, _ in updates if t <= arrivals[-1][0]]
    gaps = [b - a for a, b in itertools.pairwise(flowing)]
    answer = len(text.encode())
    shown = percentiles(arrivals, updates)
    rendered = percentiles(arrivals, stream.renders)
    return {
        "gap": max(gaps, default=0.0),
        "p50": shown[0],
        "p99": shown[1],
        "rendered p50": rendered[0],
        "rendered p99": rendered[1],
        "outputs": screen.outputs,
        "payload": stream.payload_bytes / answer,
        "live": stream.live_bytes / answer,
        "cpu_per_kb": cpu / (answer / 1024),
    }


def part_one(renders_live: bool) -> None:
    how = "rendered by the browser" if renders_live else "the fallback (Markdown outputs)"
    print(f"Part 1: simulated clock, 4-character tokens, timer ticks simulated; {how}")
    print("  rendered: when the text could first be rendered (browser: renderable as sent)")
    base = min(simulate(SHAPES["mixed 20 KB"], 100, renders_live)["cpu_per_kb"] for _ in range(3))
    print(
        f"{'shape':22} {'tok/s':>5} {'gap ms':>7} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'rendered p50/p99 s':>18} {'outputs':>7} {'Markdown':>9} {'+ live':>7}"
        f" {'CPU/KB vs mixed 20 KB':>22}"
    )
    for name, text in SHAPES.items():
        rates = (200,) if len(text) > 200_000 else RATES
        for rate in rates:
            r = simulate(text, rate, renders_live)
            print(
                f"{name:22} {rate:5} {r['gap'] * 1000:7.0f} {r['p50'] * 1000:7.0f}"
                f" {r['p99'] * 1000:7.0f} {r['rendered p50']:8.1f} /{r['rendered p99']:7.1f}"
                f" {r['outputs']:7.0f} {r['payload']:8.2f}x"
                f" {r['live']:6.2f}x {r['cpu_per_kb'] / base:21.2f}x"
            )


SETUP = """
import time
from IPython.display import Markdown, display
from chatnb import MarkdownStream
from chatnb.mock.replies import markdown_sample
from chatnb.tokens import encoding_for
tokens = encoding_for("gpt-4o").pieces(markdown_sample(20_000, 7))
"""

CHATNB = """
pause = {pause}
started = time.process_time()
stream = MarkdownStream()
for token in tokens:
    stream.feed(token)
    if pause:
        time.sleep(pause)
stream.close()
print("cpu", time.process_time() - started)
"""

NAIVE = """
pause = {pause}
started = time.process_time()
answer = ""
handle = display(Markdown(answer), display_id=True)
for token in tokens:
    answer += token
    handle.update(Markdown(answer))
    if pause:
        time.sleep(pause)
print("cpu", time.process_time() - started)
"""


def _screen_messages(run: Run) -> list[dict[str, Any]]:
    live = [
        m
        for m in run.of_type("comm_msg", "comm_open")
        if m["msg_type"] == "comm_open" or m["content"]["data"].get("method") == "custom"
    ]
    return run.display_messages() + live


def _figures(run: Run) -> dict[str, float]:
    messages = _screen_messages(run)
    seconds = Counter(
        datetime.fromisoformat(str(m["header"]["date"])).replace(microsecond=0) for m in messages
    )
    keys = ("header", "parent_header", "metadata", "content")
    wire = sum(len(json.dumps({k: m[k] for k in keys}, default=str).encode()) for m in messages)
    return {
        "messages": len(messages),
        "busiest": max(seconds.values(), default=0),
        "payload": run.payload_bytes(),
        "wire": wire,
        "cpu": float(run.frontend.stdout().split("cpu ")[-1]),
    }


def part_two(paced: bool) -> None:
    text = markdown_sample(20_000, 7)
    answer = len(text.encode())
    print(f"\nPart 2: a real kernel, {answer:,} bytes in gpt-4o tokens")
    kernel = Kernel()
    try:
        kernel.run(SETUP).ok()
        for label, pause in [("full speed", 0.0)] + ([("100 tokens/s", 0.01)] if paced else []):
            rows: dict[str, dict[str, float]] = {}
            for name, code in (("chatnb", CHATNB), ("naive", NAIVE)):
                run = kernel.run(code.format(pause=pause), timeout=600).ok()
                if name == "chatnb" and "".join(run.frontend.markdown()) != text:
                    raise SystemExit("chatnb's final outputs differ from the answer")
                rows[name] = _figures(run)
            for name, r in rows.items():
                print(
                    f"  {label:12} {name:7} {r['messages']:6,.0f} messages (busiest second"
                    f" {r['busiest']:5,.0f})  Markdown {r['payload'] / answer:8.2f}x"
                    f"  whole messages {r['wire'] / answer:8.2f}x  kernel CPU {r['cpu']:6.2f} s"
                )
            ours, naive = rows["chatnb"], rows["naive"]
            payload, wire, cpu = (naive[k] / max(ours[k], 1e-9) for k in ("payload", "wire", "cpu"))
            print(
                f"  naive / chatnb: Markdown {payload:,.0f}x, whole messages {wire:,.0f}x,"
                f" CPU {cpu:,.1f}x"
            )
    finally:
        kernel.close()


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--fast", action="store_true", help="part 2 at full speed only")
    args = options.parse_args()
    part_one(renders_live=True)
    print()
    part_one(renders_live=False)
    part_two(paced=not args.fast)


if __name__ == "__main__":
    main()
