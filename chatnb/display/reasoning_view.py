"""The reasoning of a thinking model, shown live above the answer and folded away after.

While the model thinks, one output shows an open ``<details>`` block titled "Thinking… 12 s"
with the latest part of the reasoning (a window of the last lines, so each update costs a
bounded size), at most about 20 times a second and within the same byte budget as the answer.
When the answer starts (or the stream ends), that output is replaced once by a closed
``<details>`` block, "Thought for 12.3 s", holding all of the reasoning (as a quote, so that it
does not read as part of the answer when opened). The reasoning is the
model's text, so in safe mode it goes through the same rewrites as the answer; only the
``<details>`` wrapper is chatnb's own HTML.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from ..events import ContentDelta, ReasoningDelta, RefusalDelta, ToolCallStarted
from ..markdown import neutralize, preview
from .markdown_stream import PREVIEW_BUDGET_RATIO, PREVIEW_BUDGET_SLACK, RENDER_INTERVAL_S
from .sinks import DisplaySink

__all__ = ["ReasoningView"]

#: Characters of the newest reasoning shown while the model thinks: small, so that the byte
#: budget allows frequent updates.
WINDOW_CHARS = 800


def _window(text: str, size: int = WINDOW_CHARS) -> str:
    """The end of ``text``, from a line start, marked as cut when something was left out."""
    if len(text) <= size:
        return text
    tail = text[-size:]
    start = tail.find("\n") + 1
    return "…\n\n" + (tail[start:] if 0 < start < len(tail) else tail)


class ReasoningView:
    """A thinking model's reasoning of one choice, before its answer."""

    events: ClassVar[tuple[type, ...]] = (
        ReasoningDelta,
        ContentDelta,
        RefusalDelta,
        ToolCallStarted,
    )

    def __init__(
        self,
        sink: DisplaySink,
        *,
        safe: bool = True,
        choice: int = 0,
        interval_s: float = RENDER_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sink, self.safe, self.choice = sink, safe, choice
        self.interval_s, self._clock = interval_s, clock
        self._parts: list[str] = []
        self._bytes = self._spent = 0
        self._started: float | None = None
        self._thought_s: float | None = None  # set when the answer starts: folded
        self._folded = 0  # reasoning parts in the folded block
        self._last_render = -float("inf")
        self._output: Any = None
        #: Display messages sent and their bytes (for tests and benchmarks).
        self.messages = self.payload_bytes = 0

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def handle(self, event: Any) -> None:
        if event.choice != self.choice:
            return
        if isinstance(event, ReasoningDelta):
            self._reason(event.text)
        else:
            self._fold()  # the answer started

    def close(self) -> None:
        self._fold()

    def _reason(self, text: str) -> None:
        now = self._clock()
        if self._started is None:
            self._started = now
        self._parts.append(text)
        self._bytes += len(text.encode())
        if self._thought_s is None and now - self._last_render >= self.interval_s:
            self._render_live(now)

    def _render_live(self, now: float) -> None:
        self._last_render = now
        assert self._started is not None
        markdown = self._block(_window(self.text), f"Thinking… {now - self._started:.0f} s", True)
        budget = PREVIEW_BUDGET_RATIO * self._bytes + PREVIEW_BUDGET_SLACK
        if self._spent + len(markdown.encode()) <= budget:
            self._spent += len(markdown.encode())
            self._send(markdown)

    def _fold(self) -> None:
        """All of the reasoning in one closed block (again only if more came since)."""
        if self._started is None or len(self._parts) == self._folded:
            return
        if self._thought_s is None:
            self._thought_s = self._clock() - self._started
        self._folded = len(self._parts)
        self._send(self._block(self.text, f"Thought for {self._thought_s:.1f} s", False))

    def _block(self, reasoning: str, title: str, live: bool) -> str:
        body = preview(reasoning.strip("\n"))  # an unclosed fence must not swallow </details>
        # Quoted, so that an opened block does not read as part of the answer below it.
        body = "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))
        if self.safe:
            body = neutralize(body)
        opened = " open" if live else ""
        return f"<details{opened}><summary>{title}</summary>\n\n{body}\n\n</details>\n"

    def _send(self, markdown: str) -> None:
        if self._output is None:
            self._output = self.sink.show(markdown)
        else:
            self.sink.replace(self._output, markdown)
        self.messages += 1
        self.payload_bytes += len(markdown.encode())
