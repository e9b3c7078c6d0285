"""Streamed Markdown, shown live: the content view's engine.

A frontend can only replace a display output, never append to one, so each update of a Markdown
output costs its whole size. Smooth (what was received is on screen within a fraction of a
second) and cheap (the bytes sent stay a small multiple of the answer) cannot both hold with
Markdown outputs alone. :class:`MarkdownStream` therefore shows an answer in two kinds of
output:

* **a few Markdown outputs**, each gathering finished blocks, at most :data:`MAX_OUTPUTS` in all
  however long the answer. Each holds at most :data:`FIRST_OUTPUT_BYTES` or half of what came
  before it, so their sizes grow geometrically; only the newest is ever updated. It is
  re-rendered (its finished blocks and a readable preview of the open one) whenever the bytes
  re-sent stay within :data:`REFRESH_BUDGET_RATIO` times the bytes received;
* **one live output below them** (:class:`~chatnb.display.live_text.LiveText`), which grows by
  appending the text received since the last render, as typed, and carries the progress line.
  It empties at each render and becomes Markdown when the answer ends.

While tokens flow, the screen is at most :data:`RENDER_INTERVAL_S` behind what was received: a
render when the budget allows one, else an append. A timer thread does the same when the model
pauses, so text received just before a pause does not wait for the next token. One lock
serializes the timer and the feeding thread, so the display is never touched by both at once.
The cost of feeding is O(new text); a render costs O(newest output), and renders are paid for
from the budget, so the total work is linear in the answer.

A sink that only appends (a terminal) gets the text itself, once, as it arrives. A sink that
cannot show live text (no ``show_live``) gets the Markdown renders only.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from ..markdown import MarkdownSplitter, Part, open_fence
from .live_text import LiveText
from .sinks import DisplaySink, auto_sink

__all__ = [
    "FIRST_OUTPUT_BYTES",
    "MAX_OUTPUTS",
    "PREVIEW_BUDGET_RATIO",
    "PREVIEW_BUDGET_SLACK",
    "REFRESH_BUDGET_RATIO",
    "REFRESH_BUDGET_SLACK",
    "RENDER_INTERVAL_S",
    "MarkdownStream",
]

#: Fewest seconds between two updates of the screen (about 20 a second at most); also how far
#: the screen may fall behind the received text while tokens flow.
RENDER_INTERVAL_S = 0.05
#: Renders of the newest Markdown output go out while the bytes they re-send stay under this
#: multiple of the bytes received (plus a small allowance, so short answers render every time).
REFRESH_BUDGET_RATIO = 1.75
#: The budget of a view that replaces one output as it grows (``live_output``).
PREVIEW_BUDGET_RATIO = 1.5
PREVIEW_BUDGET_SLACK = 2048
#: The allowance of the answer's renders: answers up to a few KB render on every update.
REFRESH_BUDGET_SLACK = 2048
#: Markdown outputs plus the live one, for an answer of any length (JupyterLab hides a cell's
#: outputs after the 50th behind a "Show more outputs" button).
MAX_OUTPUTS = 12
#: The first Markdown output gathers this many bytes of finished blocks; each later one this or
#: half of the text before it, whichever is more.
FIRST_OUTPUT_BYTES = 2048
#: The timer stops after this long without text (a stream nobody closed).
TIMER_IDLE_S = 10.0


@dataclass
class _Output:
    """One Markdown output: the finished parts it gathers, and what it shows now."""

    handle: Any  # None until first shown; a LiveText to be turned into this output
    parts: list[Part] = field(default_factory=list)
    shown: str | None = None
    size: int = 0  # bytes of the parts' source

    @property
    def finished(self) -> str:
        pieces: list[str] = []
        for part in self.parts:
            if part.prefixed and pieces and not pieces[-1].endswith("\n\n"):
                pieces.append("\n")  # its definitions must not continue a paragraph above
            pieces.append(part.markdown)
        return "".join(pieces)


class MarkdownStream:
    """Streamed Markdown shown live: a few Markdown outputs and a live one below them.

    >>> with MarkdownStream() as stream:       # doctest: +SKIP
    ...     for delta in deltas:
    ...         stream.feed(delta)

    ``safe=True`` (the default) shows raw HTML as text and remote images as links; switch
    either back on with ``allow_html`` / ``allow_remote_images``. ``output`` renders into an
    ``ipywidgets.Output``; ``sink`` takes any :class:`~chatnb.display.DisplaySink`. ``footer``
    gives a line shown under the answer while it streams (never in a finished output).
    ``timer=False``: no timer thread (text waits for the next :meth:`feed` or :meth:`tick`);
    the default is a timer unless ``clock`` is given.
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
        timer: bool | None = None,
    ) -> None:
        self._splitter = MarkdownSplitter(
            allow_html=not safe if allow_html is None else allow_html,
            allow_remote_images=not safe if allow_remote_images is None else allow_remote_images,
        )
        self.sink = sink if sink is not None else auto_sink(output)
        # A sink that does not say otherwise can replace what it showed.
        self._appends_only = bool(getattr(self.sink, "appends_only", False))
        self._can_live = hasattr(self.sink, "show_live")
        self.interval_s = interval_s
        self._clock = clock
        self._footer = footer
        self._outputs: list[_Output] = []
        self._live: LiveText | None = None
        self._pending: list[str] = []  # received, not on screen yet
        self._last_update = -float("inf")
        self._last_feed = 0.0
        self._fed_bytes = self._parted_bytes = self._spent = 0
        self._ended_with_newline = True
        self._lock = threading.RLock()
        self._timer: threading.Thread | None = None
        # A clock of the caller's own means time is driven by hand: no timer then.
        self._timer_wanted = clock is time.monotonic if timer is None else timer
        self._wake = threading.Event()
        self.closed = False
        #: Display messages sent and the bytes of Markdown they carried; live appends and the
        #: bytes of text they carried (for tests and benchmarks).
        self.messages = 0
        self.payload_bytes = 0
        self.live_messages = 0
        self.live_bytes = 0
        #: (clock time, characters received at that time) at each update of the screen, and
        #: at each render of Markdown (the others appended live text).
        self.updates: list[tuple[float, int]] = []
        self.renders: list[tuple[float, int]] = []
        self._fed_chars = 0

    # -- feeding ---------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """Everything fed so far."""
        return self._splitter.text

    @property
    def outputs(self) -> int:
        """Display outputs this stream has opened (Markdown and live)."""
        return len(self._outputs) + (self._live is not None)

    def feed(self, text: str) -> None:
        if self.closed:
            raise ValueError("this MarkdownStream is closed")
        if not text:
            return
        with self._lock:
            self._splitter.feed(text)
            self._fed_bytes += len(text.encode())
            self._fed_chars += len(text)
            self._ended_with_newline = text.endswith("\n")
            if self._appends_only:
                self.sink.show(text)
                return
            self._pending.append(text)
            self._last_feed = self._clock()
            if self._last_feed - self._last_update >= self.interval_s:
                self._update()
        self._start_timer()

    def tick(self) -> None:
        """Show what is waiting, if it has waited an interval (the timer calls this)."""
        with self._lock:
            due = self._clock() - self._last_update >= self.interval_s
            if self._pending and not self.closed and due:
                self._update()

    def close(self) -> None:
        """Render the final state (once; closing again does nothing)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self._wake.set()
            if self._appends_only:
                if not self._ended_with_newline:
                    self.sink.show("\n")
                return
            self._finish()

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

    # -- the timer -------------------------------------------------------------------------

    def _start_timer(self) -> None:
        if not self._timer_wanted or self._appends_only or self.closed:
            return
        if self._timer is not None and self._timer.is_alive():
            return
        # The thread runs in this context: in a kernel, what it sends belongs to this cell.
        context = contextvars.copy_context()
        self._timer = threading.Thread(
            target=context.run, args=(self._run_timer,), name="chatnb-markdown-timer", daemon=True
        )
        self._timer.start()

    def _run_timer(self) -> None:
        while not self._wake.wait(self.interval_s / 2):
            if self._clock() - self._last_feed > TIMER_IDLE_S:
                return  # nobody feeds: the next feed starts a new timer
            self.tick()

    # -- updating the screen ---------------------------------------------------------------

    def _update(self) -> None:
        """Bring the screen up to what was received: a render if affordable, else an append."""
        if self._render_affordable():
            self._render()
            self.renders.append((self._clock(), self._fed_chars))
        elif self._can_live:
            self._append_live()
        else:
            return  # no live output: the text waits for an affordable render
        self._last_update = self._clock()
        self.updates.append((self._last_update, self._fed_chars))

    def _render_affordable(self) -> bool:
        newest = self._outputs[-1].size if self._outputs else 0
        cost = newest + self._fed_bytes - self._parted_bytes
        # The final send (at most the newest output and the tail once more) comes on top: the
        # ratio leaves room for it under 3x.
        budget = REFRESH_BUDGET_RATIO * self._fed_bytes + REFRESH_BUDGET_SLACK
        return self._spent + cost <= budget

    def _render(self) -> None:
        part = self._splitter.advance()
        if part is not None:
            self._gather(part)
        newest = self._outputs[-1] if self._outputs else self._open_output()
        preview = self._splitter.preview()
        if self._live is None and self._footer is not None and preview:
            preview += f"\n\n*{self._footer()}*"  # under the answer, until a live output holds it
        self._show(newest, newest.finished + preview)
        self._pending.clear()
        if self._live is not None:
            self._live.clear()
            self._live.code(open_fence(self._splitter.tail) is not None)
            self._show_footer()

    def _append_live(self) -> None:
        if self._live is None:
            self._live = self.sink.show_live()  # type: ignore[attr-defined]
        text = "".join(self._pending)
        self._pending.clear()
        self._live.append(text)
        self.live_messages += 1
        self.live_bytes += len(text.encode())
        self._show_footer()

    def _show_footer(self) -> None:
        if self._footer is not None and self._live is not None:
            self._live.footer(self._footer())

    def _gather(self, part: Part) -> None:
        """Add a finished part to the newest output, or to a new one when that one is full."""
        self._parted_bytes += len(part.source.encode())
        newest = self._outputs[-1] if self._outputs else self._open_output()
        before = sum(output.size for output in self._outputs[:-1])
        full = newest.size >= max(FIRST_OUTPUT_BYTES, before // 2)
        if newest.parts and full and len(self._outputs) < MAX_OUTPUTS - 1:
            self._show(newest, newest.finished)  # final: its preview goes
            newest = self._open_output()
        newest.parts.append(part)
        newest.size += len(part.source.encode())

    def _open_output(self) -> _Output:
        """A new Markdown output below the others (in the live output's place, if any)."""
        output = _Output(self._live)  # the live output becomes Markdown on its first show
        self._live = None
        self._outputs.append(output)
        return output

    def _show(self, output: _Output, markdown: str) -> None:
        if markdown == output.shown:
            return
        if output.handle is None:
            output.handle = self.sink.show(markdown)
        elif isinstance(output.handle, LiveText):
            output.handle = self.sink.settle(output.handle, markdown)  # type: ignore[attr-defined]
        else:
            self.sink.replace(output.handle, markdown)
        output.shown = markdown
        self.messages += 1
        self.payload_bytes += len(markdown.encode())
        self._spent += len(markdown.encode())

    def _finish(self) -> None:
        part = self._splitter.advance(final=True)
        if part is not None:
            if self._live is not None and self._outputs and self._outputs[-1].parts:
                # The last part takes the live output's place: no empty output is left.
                self._show(self._outputs[-1], self._outputs[-1].finished)
                self._open_output()
            self._gather(part)
        if self._outputs:
            self._show(self._outputs[-1], self._outputs[-1].finished)
        if self._live is not None:
            self.sink.settle(self._live, "")  # type: ignore[attr-defined]
            self._live = None
