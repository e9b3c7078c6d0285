"""Wall time of ``compare`` with 4 variants against one variant alone.

All variants of a comparison run at once, so four should take about as long as one, not four
times as long. Both run here on the in-process mock with 50 ms between tokens (the real API's
pace for a fast model), in the same process, with the same answer of about 40 tokens.

    python benchmarks/compare.py
"""

from __future__ import annotations

import asyncio
import time

from chatnb import Chatbot, compare

ITL_MS = 50
ANSWER = (
    "Server-sent events keep one HTTP response open and send each token as a small frame, "
    "so the reader sees the answer grow instead of waiting for all of it."
)
VARIANTS = [
    {"system": "Be brief."},
    {"system": "Be brief.", "temperature": 1.2},
    {"system": "You are a patient teacher."},
    {"model": "gpt-4o", "top_p": 0.5},
]


async def seconds(variants: list[dict[str, object]]) -> float:
    bot = Chatbot.mock(ANSWER, itl_ms=ITL_MS, display=False)
    start = time.perf_counter()
    results = await compare("Explain SSE.", variants, bot=bot, display=False)
    elapsed = time.perf_counter() - start
    if any(r.error or r.answer != ANSWER for r in results):
        raise SystemExit("a variant did not get the whole answer")
    return elapsed


def main() -> None:
    one = asyncio.run(seconds(VARIANTS[:1]))
    four = asyncio.run(seconds(VARIANTS))
    print(f"answer of {len(ANSWER)} characters, {ITL_MS} ms between tokens")
    print(f"  one variant alone   {one:6.2f} s")
    print(
        f"  four variants       {four:6.2f} s = {four / one:.2f}x one variant (4.00x if run one after another)"
    )


if __name__ == "__main__":
    main()
