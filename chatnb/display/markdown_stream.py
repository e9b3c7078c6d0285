"""Streamed Markdown, shown live: the content view's engine.

:class:`MarkdownStream` sends each finished :class:`~chatnb.markdown.Part` to the frontend
once and re-renders only the open tail, at most about 20 times a second and within a byte
budget, so a 20 KB answer costs the browser a small multiple of 20 KB instead of the tens of
megabytes of re-sending the whole answer on every token.

How the outputs evolve: the open tail lives in one display output. When parts finish, that
output is updated one last time with the finished text and a new output is opened below it
for the new tail. Outputs therefore appear in text order and a finished one is never touched
again.

A sink that only appends (a terminal) gets the text itself, once, as it arrives.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from ..markdown import MarkdownSplitter
from .sinks import DisplaySink, auto_sink

__all__ = ["MarkdownStream"]

#: Fewest seconds between two renders of the open tail (about 20 renders a second at most).
RENDER_INTERVAL_S = 0.05
#: The open tail is re-sent only while the bytes spent on it stay under this multiple of the
#: bytes of text received (plus a small allowance, so short answers still stream smoothly).
PREVIEW_BUDGET_RATIO = 1.5
PREVIEW_BUDGET_SLACK = 2048


class MarkdownStream:
    """Streamed Markdown shown live, with finished blocks sent once and never again.

    >>> with MarkdownStream() as stream:       # doctest: +SKIP
    ...     for delta in deltas:
    ...         stream.feed(delta)

    ``safe=True`` (the default) shows raw HTML as text and remote images as links; switch
    either back on with ``allow_html`` / ``allow_remote_images``. ``output`` renders into an
    ``ipywidgets.Output``; ``sink`` takes any :class:`~chatnb.display.DisplaySink`. ``footer``
    gives a line shown under the open tail while it streams (never in a finished output); it
    is paid for from the same byte budget as the tail.
    """

    def __init__(
        self,
        safe: bool = True,
        *,
        allow_html: bool | None = None,
        allow_remote_images: bool | None = None,
        output: Any = None,
        sink: DisplaySink | None = None,
        interval_s: float = RENDER_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        footer: Callable[[], str] | None = None,
    ) -> None:
        self._splitter = MarkdownSplitter(
            allow_html=not safe if allow_html is None else allow_html,
            allow_remote_images=not safe if allow_remote_images is None else allow_remote_images,
        )
        self.sink = sink if sink is not None else auto_sink(output)
        # A sink that does not say otherwise can replace what it showed.
        self._appends_only = bool(getattr(self.sink, "appends_only", False))
        self.interval_s = interval_s
        self._clock = clock
        self._footer = footer
        self._last_render = -float("inf")
        self._tail: Any = None
        self._tail_shown = ""
        self._fed_bytes = 0
        self._preview_bytes = 0
        self._ended_with_newline = True
        self.closed = False
        #: Display messages sent and the bytes of Markdown they carried (for tests/benchmarks).
        self.messages = 0
        self.payload_bytes = 0

    # -- feeding ---------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """Everything fed so far."""
        return self._splitter.text

    def feed(self, text: str) -> None:
        if self.closed:
            raise ValueError("this MarkdownStream is closed")
        if not text:
            return
        self._splitter.feed(text)
        self._fed_bytes += len(text.encode())
        self._ended_with_newline = text.endswith("\n")
        if self._appends_only:
            self.sink.show(text)
        elif self._clock() - self._last_render >= self.interval_s:
            self._render(final=False)

    def close(self) -> None:
        """Render the final state (once; closing again does nothing)."""
        if self.closed:
            return
        self.closed = True
        if self._appends_only:
            if not self._ended_with_newline:
                self.sink.show("\n")
            return
        self._render(final=True)

    def note(self, text: str) -> None:
        """One quiet line of plain text below the answer."""
        self.sink.note(text)

    def __enter__(self) -> MarkdownStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- rendering -------------------------------------------------------------------------

    def _send(self, markdown: str) -> None:
        if self._tail is None:
            self._tail = self.sink.show(markdown)
        else:
            self.sink.replace(self._tail, markdown)
        self._tail_shown = markdown
        self.messages += 1
        self.payload_bytes += len(markdown.encode())

    def _render(self, final: bool) -> None:
        self._last_render = self._clock()
        part = self._splitter.advance(final=final)
        if part is not None:
            # The tail's output becomes the finished part; the new tail gets its own output.
            if self._tail is None or part.markdown != self._tail_shown:
                self._send(part.markdown)
            self._tail = None
        if final:
            return
        preview = self._splitter.preview()
        if preview and self._footer is not None:
            preview += f"\n\n{self._footer()}"
        if not preview or (preview == self._tail_shown and self._tail is not None):
            return
        cost = len(preview.encode())
        budget = PREVIEW_BUDGET_RATIO * self._fed_bytes + PREVIEW_BUDGET_SLACK
        if self._preview_bytes + cost <= budget:
            self._preview_bytes += cost
            self._send(preview)
