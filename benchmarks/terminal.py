"""The terminal: what rendering an answer with rich costs, chatnb's way beside the naive one.

Each answer shape is fed in 4-character tokens to a rich console (a 100 x 40 terminal writing
into memory), with the live region redrawn every 10 tokens (10 redraws a second at 100
tokens/s), in the same run:

* **chatnb** (``RichSink``): finished blocks printed once, only the end of the open block
  redrawn. Its pacing (a redraw takes at most a tenth of the time) is switched off here, so
  every redraw renders: the figures are its worst case.
* **naive**: ``rich.live.Live`` showing ``Markdown(answer so far)``, updated at each redraw
  (what rich's own examples and most terminal chat tools do). Quadratic: run only on the
  shorter shapes (``--naive-max``).

It prints the CPU seconds of each, the slowest redraw, and the bytes written to the terminal
over the answer's bytes. ``python benchmarks/terminal.py``
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown

from chatnb.display import rich_terminal
from chatnb.display.rich_terminal import RichSink
from chatnb.mock.replies import markdown_sample

TOKEN_CHARS = 4
REDRAW_EVERY = 10  # tokens: 10 redraws a second at 100 tokens/s


def shapes() -> dict[str, str]:
    code = "```python\n" + "".join(
        f"value_{i} = compute({i}, 'x')  # step {i}\n" for i in range(500)
    )
    rows = "".join(f"| `step {i}` | {i * 37 % 1000} | a note on step {i} |\n" for i in range(1_100))
    words = " ".join(f"word{i % 97}" for i in range(60_000))
    return {
        "mixed 20 KB": markdown_sample(20_000, seed=1),
        "mixed 100 KB": markdown_sample(100_000, seed=1),
        "code block 20 KB": code + "```\n",
        "table 40 KB": "| step | n | note |\n|---|---:|---|\n" + rows,
        "paragraph 400 KB": words[:400_000] + "\n",
    }


def console() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=100, height=40)


def tokens(text: str) -> list[str]:
    return [text[i : i + TOKEN_CHARS] for i in range(0, len(text), TOKEN_CHARS)]


def chatnb(text: str, screen: Console) -> float:
    """The slowest redraw (s)."""
    answer = RichSink(screen, auto_refresh=False).markdown_stream()
    slowest = 0.0
    for i, token in enumerate(tokens(text)):
        answer.feed(token)
        if i % REDRAW_EVERY == 0:
            slowest = max(slowest, timed(answer.refresh))
    answer.close()
    return slowest


def naive(text: str, screen: Console) -> float:
    slowest, received = 0.0, ""
    with Live(Markdown(""), console=screen, auto_refresh=False) as live:
        for i, token in enumerate(tokens(text)):
            received += token
            if i % REDRAW_EVERY == 0:
                started = time.perf_counter()
                live.update(Markdown(received), refresh=True)
                slowest = max(slowest, time.perf_counter() - started)
        live.update(Markdown(received), refresh=True)
    return slowest


def timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--naive-max", type=int, default=40_000, help="longest answer for naive")
    args = parser.parse_args()
    rich_terminal.REDRAW_SHARE = float("inf")  # every redraw renders: the worst case
    print(f"{'shape':18} {'way':7} {'CPU s':>7} {'CPU ms/KB':>10} {'slowest':>9} {'out/in':>7}")
    for name, text in shapes().items():
        ways = {"chatnb": chatnb, "naive": naive} if len(text) <= args.naive_max else {}
        for way, run in {"chatnb": chatnb, **ways}.items():
            screen = console()
            started = time.process_time()
            slowest = run(text, screen)
            cpu = time.process_time() - started
            assert isinstance(screen.file, io.StringIO)
            ratio = len(screen.file.getvalue().encode()) / len(text.encode())
            per_kb = 1000 * cpu / (len(text) / 1000)
            row = f"{cpu:7.2f} {per_kb:10.1f} {slowest * 1000:7.1f}ms {ratio:7.1f}"
            print(f"{name:18} {way:7} {row}", flush=True)


if __name__ == "__main__":
    main()
