"""One display output that a view replaces as its channel grows: throttled, and paid for.

A view that shows a growing thing in one place (a tool call's arguments, a structured answer)
renders at most every :data:`~chatnb.display.markdown_stream.RENDER_INTERVAL_S` and within the
same byte budget as the answer's open tail (a multiple of the bytes received), so that its
updates cost O(received) bytes however long the stream. The last render (:meth:`final`) is
always sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .markdown_stream import PREVIEW_BUDGET_RATIO, PREVIEW_BUDGET_SLACK, RENDER_INTERVAL_S
from .sinks import DisplaySink

__all__ = ["LiveOutput"]


class LiveOutput:
    """A display output shown on first use and replaced after."""

    def __init__(
        self,
        sink: DisplaySink,
        *,
        interval_s: float = RENDER_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sink, self.interval_s, self._clock = sink, interval_s, clock
        self._handle: Any = None
        self._last = -float("inf")
        self._received = self._spent = 0
        self.shown = ""
        #: Display messages sent and their bytes (for tests and benchmarks).
        self.messages = self.payload_bytes = 0

    def received(self, text: str) -> None:
        """Count what arrived: the budget grows with it."""
        self._received += len(text.encode())

    def due(self) -> bool:
        """Whether a live render may go out now, by the clock (render it, then :meth:`live`)."""
        return self._clock() - self._last >= self.interval_s

    def live(self, markdown: str) -> bool:
        """Send a live render if the budget still has room for it; whether it went out."""
        self._last = self._clock()
        size = len(markdown.encode())
        if self._spent + size > PREVIEW_BUDGET_RATIO * self._received + PREVIEW_BUDGET_SLACK:
            return False
        self._spent += size
        self._send(markdown)
        return True

    def final(self, markdown: str) -> None:
        """The settled state: always sent, unless it is what is shown already."""
        if markdown != self.shown:
            self._send(markdown)

    def _send(self, markdown: str) -> None:
        if self._handle is None:
            self._handle = self.sink.show(markdown)
        else:
            self.sink.replace(self._handle, markdown)
        self.shown = markdown
        self.messages += 1
        self.payload_bytes += len(markdown.encode())
