"""How an answer is coming along: a quiet line under it while it streams.

The line counts the deltas that carried text (one token each, as OpenAI-compatible servers
stream them), their rate since the first one, and the time since the question: enough to see
that a long answer is still moving. It rides on the answer's newest output (see
``MarkdownStream(footer=)``): in italics under the Markdown, or under the live text once there
is some. It costs no message of its own and leaves no trace in the finished outputs; when the
answer ends, the exchange puts the usage line in its place.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from ..events import ContentDelta, ReasoningDelta, RefusalDelta

__all__ = ["Progress"]


class Progress:
    """A view that counts an answer's tokens and tells how fast they come."""

    events: ClassVar[tuple[type, ...]] = (ContentDelta, RefusalDelta, ReasoningDelta)

    def __init__(self, choice: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        self.choice, self._clock = choice, clock
        self.started = clock()
        self.tokens = 0
        self._first: float | None = None

    def handle(self, event: Any) -> None:
        if event.choice == self.choice:
            self.tokens += 1
            if self._first is None:
                self._first = self._clock()

    def close(self) -> None:
        pass

    def line(self) -> str:
        """``128 tokens · 42 tokens/s · 3.1 s``."""
        now = self._clock()
        parts = [f"{self.tokens:,} token{'' if self.tokens == 1 else 's'}"]
        if self._first is not None and now > self._first:
            parts.append(f"{self.tokens / (now - self._first):,.0f} tokens/s")
        parts.append(f"{now - self.started:.1f} s")
        return " · ".join(parts)
