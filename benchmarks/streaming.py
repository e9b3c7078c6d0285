"""What the browser receives while a 20 KB Markdown answer streams: chatnb against the recipe.

The naive recipe, as found in tutorials and most notebook chat libraries::

    handle = display(Markdown(""), display_id=True)
    for token in stream:
        answer += token
        handle.update(Markdown(answer))

Both run in the same real IPython kernel, on the same answer cut into its gpt-4o tokens, at
full speed and at 100 tokens per second (real time: about a minute per run at that rate). The
script counts what went over IOPub, which is what the Jupyter server forwards to the browser:
display messages, the bytes of their Markdown payload, the bytes of the whole messages with
their JSON envelope, and the busiest second. It prints chatnb's figures, the recipe's, and the
ratios.

    python benchmarks/streaming.py           # both speeds
    python benchmarks/streaming.py --fast    # full speed only
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chatnb.mock.replies import markdown_sample
from chatnb.tokens import encoding_for
from tests.kernel import Kernel, Run

ANSWER_CHARS = 20_000

SETUP = f"""
import time
from IPython.display import Markdown, display
from chatnb import MarkdownStream
from chatnb.mock.replies import markdown_sample
from chatnb.tokens import encoding_for
tokens = encoding_for("gpt-4o").pieces(markdown_sample({ANSWER_CHARS}, 7))
"""

CHATNB = """
pause = {pause}
stream = MarkdownStream()
for token in tokens:
    stream.feed(token)
    if pause:
        time.sleep(pause)
stream.close()
"""

NAIVE = """
pause = {pause}
answer = ""
handle = display(Markdown(answer), display_id=True)
for token in tokens:
    answer += token
    handle.update(Markdown(answer))
    if pause:
        time.sleep(pause)
"""


def busiest_second(run: Run) -> int:
    seconds = Counter(
        datetime.fromisoformat(str(m["header"]["date"])).replace(microsecond=0)
        for m in run.display_messages()
    )
    return max(seconds.values(), default=0)


def describe(name: str, run: Run, answer_bytes: int) -> tuple[int, int]:
    payload, wire = run.payload_bytes(), run.wire_bytes()
    print(
        f"  {name:7} {len(run.display_messages()):6,} messages (busiest second {busiest_second(run):5,})"
        f"  payload {payload:12,} B = {payload / answer_bytes:8.2f}x the answer"
        f"  with envelopes {wire:12,} B = {wire / answer_bytes:8.2f}x"
    )
    return payload, wire


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--fast", action="store_true", help="full speed only")
    args = options.parse_args()
    text = markdown_sample(ANSWER_CHARS, 7)
    tokens = encoding_for("gpt-4o").pieces(text)
    answer_bytes = len(text.encode())
    print(f"answer: {answer_bytes:,} bytes in {len(tokens):,} gpt-4o tokens")
    kernel = Kernel()
    try:
        kernel.run(SETUP).ok()
        speeds = [("full speed", 0.0)] + ([] if args.fast else [("100 tokens/s", 0.01)])
        for label, pause in speeds:
            print(f"{label}:")
            ours = kernel.run(CHATNB.format(pause=pause), timeout=600).ok()
            if "".join(ours.frontend.markdown()) != text:
                raise SystemExit("chatnb's final outputs differ from the answer")
            ours_payload, ours_wire = describe("chatnb", ours, answer_bytes)
            naive = kernel.run(NAIVE.format(pause=pause), timeout=600).ok()
            naive_payload, naive_wire = describe("naive", naive, answer_bytes)
            print(
                f"  naive / chatnb: payload {naive_payload / ours_payload:,.0f}x,"
                f" with envelopes {naive_wire / ours_wire:,.0f}x,"
                f" messages {len(naive.display_messages()) / len(ours.display_messages()):,.0f}x"
            )
    finally:
        kernel.close()


if __name__ == "__main__":
    main()
