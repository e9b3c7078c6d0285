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

Messages are paid for as bytes are, from one allowance of :data:`MESSAGES_PER_S` a second since
the first text. Each update sends one message at once (the live append, or the newest output's
render); everything else (a new output, a merge, a full output's last show, the drop that
follows a placement) goes out only while the messages sent, its own and those the end will send
(one to each output) fit the allowance, else waits like a placement the bytes cannot pay for.
So the dozen outputs' fixed cost is spread over the answer at any token rate (the first update
and the end, three messages, are all an answer shorter than 0.6 s may exceed it by); the live
text is never held back. Every Markdown byte sent, a full output's last show included, is paid
from the byte budget, and the end sends the answer once more and nothing else: 2.5x and the
1 KB allowance in all.

A terminal (:class:`~chatnb.display.terminal.TerminalSink`) cannot take back what it showed:
the stream hands the text to the terminal's own stream (plain text as it arrives, or Markdown
rendered by ``rich``). A sink that cannot show live text (not a ``LiveTextSink``) gets the Markdown
renders only.
"""

from __future__ import annotations

import contextvars
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, cast

from ..markdown import MarkdownSplitter, Part, open_fence
from ..markdown.live_tail import GrowingBlock, TailCheck
from ..markdown.math_text import open_display_math
from .live_markdown import LiveMarkdown, utf16_length
from .live_text import LiveText
from .output_slots import OutputSlots
from .sinks import DisplaySink, LiveMarkdownSink, LiveTextSink, auto_sink
from .terminal import TerminalSink

__all__ = [
    "FIRST_OUTPUT_BYTES",
    "MAX_OUTPUTS",
    "MESSAGES_PER_S",
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
#: The end adds 1x: the finished answer is shown again in one output.
REFRESH_BUDGET_RATIO = 1.5
#: The budget of a view that replaces one output as it grows (``live_output``).
PREVIEW_BUDGET_RATIO = 1.5
PREVIEW_BUDGET_SLACK = 2048
#: The allowance of the answer's renders: answers up to a few KB render on every update.
REFRESH_BUDGET_SLACK = 1024
#: Messages a second of stream time since the first text, all of them counted: live appends,
#: new outputs, merges, footers and the end. A placement (without a live output, a render that
#: opens a new output) goes out only while the messages sent, its own and those the end would
#: send stay within it; an update's one message (an append, a render) is never held back: one
#: every RENDER_INTERVAL_S takes 20 of the 25.
MESSAGES_PER_S = 25
#: Messages a placement may send to the live output besides the Markdown ones: a new live
#: output shown, its text cut to the open tail (a drop, or a clear and an append), the font.
_LIVE_PLACE_MESSAGES = 3
#: Markdown outputs plus the live one, for an answer of any length (JupyterLab hides a cell's
#: outputs after the 50th behind a "Show more outputs" button).
MAX_OUTPUTS = 12
#: The first Markdown output gathers this many bytes of finished blocks; each later one this or
#: half of the text before it, whichever is more.
FIRST_OUTPUT_BYTES = 2048
#: Fewest seconds between two updates of the progress line under the live text (it changes
#: with every token; each update would cost its bytes again).
FOOTER_INTERVAL_S = 0.25
#: The timer stops after this long without text (a stream nobody closed).
TIMER_IDLE_S = 10.0


@dataclass
class _Output:
    """One Markdown output: the finished parts it gathers, and what it shows now."""

    handle: Any = None  # None until first shown
    parts: list[Part] = field(default_factory=list)
    shown: str | None = None
    size: int = 0  # bytes of the parts' source

    @property
    def finished(self) -> str:
        return _piece(self.parts, first=True)


# Where a block may have ended: a blank line; inside a code block, a line that could close it.
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_FENCE_LINE = re.compile(r"\n {0,3}(`{3,}|~{3,})")


def _piece(parts: list[Part], *, first: bool = False) -> str:
    """Finished parts as one piece of Markdown; ``first``: nothing comes before it in its
    output (else it may follow a paragraph of a piece placed there earlier)."""
    pieces: list[str] = []
    for part in parts:
        # Definitions right after text that ends without a blank line would continue it.
        needs_gap = not pieces[-1].endswith("\n\n") if pieces else not first
        if part.prefixed and needs_gap:
            pieces.append("\n")
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
    the default is a timer unless ``clock`` is given. ``math=True`` shows math the way the
    model meant it (:func:`chatnb.markdown.math_text.rewrite_math`); the text fed stays as it is.
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
        math: bool = True,
    ) -> None:
        self._splitter = MarkdownSplitter(
            allow_html=not safe if allow_html is None else allow_html,
            allow_remote_images=not safe if allow_remote_images is None else allow_remote_images,
            math=math,
        )
        self.sink = sink if sink is not None else auto_sink(output)
        # A terminal shows the answer its own way, as it arrives.
        self._terminal = (
            self.sink.markdown_stream(footer) if isinstance(self.sink, TerminalSink) else None
        )
        self._can_live = isinstance(self.sink, LiveTextSink)
        self.interval_s, self._clock, self._footer = interval_s, clock, footer
        self._init_outputs()
        # The region's length at the last cut and at a last try that cut nothing; in code?
        self._cut_size, self._tried_size, self._fence, self._last_char = 0, 0, False, "\n"
        self._inbox: deque[str] = deque()  # fed, not yet taken in under the lock
        self._pending: list[str] = []  # received, not on screen yet
        self._last_update, self._last_feed, self._footer_at = -float("inf"), 0.0, -float("inf")
        self._now, self._started = 0.0, float("inf")  # the last clock reading; the first text's
        self._fed_bytes = self._fed_chars = self._parted_bytes = self._spent = 0
        self.closed = False
        self._lock, self._wake = threading.RLock(), threading.Event()
        self._timer: threading.Thread | None = None
        # A clock of the caller's own means time is driven by hand: no timer then.
        self._timer_wanted = clock is time.monotonic if timer is None else timer
        #: Display messages sent and the bytes of Markdown they carried (for tests and
        #: benchmarks); live outputs count theirs (:attr:`live_messages`, :attr:`live_bytes`).
        self.messages = self.payload_bytes = 0
        self._retired_live = (0, 0)  # messages and text bytes of live outputs settled
        self._live_shown = 0  # display messages that showed a live output
        #: (clock time, characters received) at each update of the screen, and at each
        #: render of Markdown (the others appended live text).
        self.updates: list[tuple[float, int]] = []
        self.renders: list[tuple[float, int]] = []

    def _init_outputs(self) -> None:
        """The state of whichever way this sink shows an answer."""
        # The browser renders the live answer itself (JupyterLab, Notebook 7): the text is
        # sent once and finished parts are marked; no Markdown outputs until the end.
        self._renders = isinstance(self.sink, LiveMarkdownSink) and self.sink.renders_live
        self._rendering: LiveMarkdown | None = None
        self._tail_check = TailCheck(self._splitter.shown_as_fed, self._clock)
        self._growing = GrowingBlock()  # where the open block starts; grown by lines?
        self._head_units = (0, 0)  # (offset, UTF-16 length) of the last block head sent
        self._parts: list[Part] = []  # every part cut, when the browser renders
        self._outputs: list[_Output] = []  # without a live output: renders with a preview
        self._live: LiveText | None = None
        # With a live output: finished parts go into a dozen slots, the rest is live text.
        self._slots = OutputSlots(self.sink, MAX_OUTPUTS - 1, self._output_at_live)
        self._unplaced: list[Part] = []

    # -- feeding ---------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """Everything fed so far."""
        return self._splitter.text if self._terminal is None else self._terminal.text

    @property
    def outputs(self) -> int:
        """Display outputs this stream has open (Markdown and live)."""
        return len(self._outputs) + len(self._slots.slots) + (self._live is not None)

    def feed(self, text: str) -> None:
        if self.closed:
            raise ValueError("this MarkdownStream is closed")
        if not text:
            return
        if self._terminal is not None:
            self._terminal.feed(text)
            return
        # Taken before the lock: an interrupt while waiting for the timer to let go of it must
        # not lose text that the History already holds.
        self._inbox.append(text)
        with self._lock:
            self._take_inbox()
            self._last_feed = self._read_clock()
            if self._last_feed - self._last_update >= self.interval_s:
                self._update()
        self._start_timer()

    def _read_clock(self) -> float:
        """The time now, kept for the message budget (from the first reading after text came)."""
        self._now = self._clock()
        if self._fed_bytes and self._started == float("inf"):
            self._started = self._now
        return self._now

    def _take_inbox(self) -> None:
        while self._inbox:
            text = self._inbox.popleft()
            self._splitter.feed(text)
            self._fed_bytes += len(text.encode())
            self._fed_chars += len(text)
            self._pending.append(text)

    def tick(self) -> None:
        """Show what is waiting, if it has waited an interval (the timer calls this)."""
        with self._lock:
            self._take_inbox()
            due = self._read_clock() - self._last_update >= self.interval_s
            if self._pending and not self.closed and due:
                self._update()

    def close(self) -> None:
        """Render the final state (once; closing again does nothing)."""
        with self._lock:
            if self.closed:
                return
            self._take_inbox()
            self.closed = True
            self._wake.set()
            if self._terminal is not None:
                self._terminal.close()
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
        if not self._timer_wanted or self.closed:
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
        """Bring the screen up to what was received: the live text grows, finished blocks go
        into Markdown outputs when affordable; without a live output, a render if affordable."""
        if self._renders:
            self._update_rendered()
        elif self._can_live:
            text = self._append_live()
            waiting = len(self._unplaced)
            self._cut(text)
            self._place(cut=len(self._unplaced) > waiting)
        elif self._render_affordable():
            self._render()
            self.renders.append((self._clock(), self._fed_chars))
        else:
            return  # no live output: the text waits for an affordable render
        self._last_update = self._clock()
        self.updates.append((self._last_update, self._fed_chars))

    # -- rendered by the browser -----------------------------------------------------------

    def _update_rendered(self) -> None:
        """Send what arrived, the parts it finished, and where the open tail turns plain."""
        text = "".join(self._pending)
        self._pending.clear()
        self._cut(text)
        parts, self._unplaced = self._unplaced, []
        self._parts += parts
        tail = self._splitter.tail
        if parts:
            self._tail_check.reset()
            self._growing.reset()
        plain, math = self._tail_check.plain_from(tail)
        if self._rendering is None:
            self._rendering = cast(LiveMarkdownSink, self.sink).show_live_markdown()
        self._rendering.update(
            text,
            freeze=[(part.source, part.markdown) for part in parts],
            plain=None if plain is None else utf16_length(tail[:plain]),
            math=math,
            block=self._block(tail, plain, bool(parts)),
            footer=self._footer_due(),
        )
        shown = self._fed_chars - (0 if plain is None else len(tail) - plain)
        self.renders.append((self._clock(), shown))

    def _block(self, tail: str, plain: int | None, cut: bool) -> tuple[int, str | None] | None:
        """Where the open tail's last block starts (in UTF-16 code units) and whether the
        browser grows it by lines (:class:`~chatnb.markdown.live_tail.GrowingBlock`)."""
        found = self._growing.find(tail, plain)
        if found is None:
            return None
        head, kind = found
        if cut or self._head_units[0] != head:  # counted once per block, not per update
            self._head_units = (head, utf16_length(tail[:head]))
        return self._head_units[1], kind

    def _finish_rendered(self) -> None:
        text = "".join(self._pending)
        self._pending.clear()
        self._cut(final=True)
        parts, self._unplaced = self._unplaced, []
        self._parts += parts
        splitter = self._splitter
        whole = splitter.whole() if splitter.revised else _piece(self._parts, first=True)
        self.renders.append((self._clock(), self._fed_chars))
        live, self._rendering = self._rendering, None
        if live is None:
            if whole:
                self._show(self._open_output(), whole)
            return
        # The last blocks frozen too: the live view then looks as the final output will.
        live.update(text, freeze=[(part.source, part.markdown) for part in parts], footer="")
        cast(LiveMarkdownSink, self.sink).settle(live, whole)
        self._retired_live = (live.messages, live.text_bytes + live.markdown_bytes)
        self.messages += 1
        self.payload_bytes += len(whole.encode())

    # -- with a live output ----------------------------------------------------------------

    def _cut(self, text: str = "", final: bool = False) -> None:
        """Cut finished blocks off the open region when a block may have ended: a blank line
        arrived (a fence line, inside a code block), or the region grew by half since the
        last try. Parsing costs O(region), so the cost stays linear in the answer: a region
        that could not be cut (math or an HTML element still open) is tried again at a blank
        line only once it has grown by an eighth."""
        size = len(self._splitter.tail)
        seen = self._last_char + text
        self._last_char = seen[-1]
        ended = _FENCE_LINE if self._fence else _BLANK_LINE
        grown = size >= self._tried_size + self._tried_size // 8
        due = size >= 1.5 * self._cut_size + 64 or (grown and ended.search(seen) is not None)
        if not final and not due:
            return
        part = self._splitter.advance(final=final)
        tail = self._splitter.tail
        self._cut_size, self._fence = len(tail), open_fence(tail) is not None
        self._tried_size = 0 if part is not None else len(tail)
        if part is not None:
            self._unplaced.append(part)

    def _place(self, cut: bool) -> None:
        """Put the finished parts into the Markdown outputs if the budgets allow: the live
        output then holds only the open tail. ``cut``: a part was cut just now."""
        if not self._unplaced:
            return
        piece = _piece(self._unplaced)
        plan = self._slots.plan(piece)
        if plan.used > len(self._slots.slots) and not cut:
            # A new output takes the live output's place and a new live output shows the open
            # tail again: only right after a cut, while the tail is short (a placement held
            # back by the messages would otherwise re-send a tail grown meanwhile).
            return
        budget = REFRESH_BUDGET_RATIO * self._fed_bytes + REFRESH_BUDGET_SLACK
        # Its own messages, then the end's: the first output replaced, the others emptied, the
        # live output settled.
        messages = plan.messages + _LIVE_PLACE_MESSAGES + (self._footer is not None)
        if self._spent + plan.bytes > budget or not self._can_send(messages + plan.used + 1):
            return  # shown as live text meanwhile
        self._slots.place(piece)
        self._spent += plan.bytes
        self.messages, self.payload_bytes = self._slots.messages, self._slots.payload_bytes
        self._unplaced.clear()
        self.renders.append((self._clock(), self._fed_chars - len(self._splitter.tail)))
        tail = self._splitter.tail
        if self.closed:
            return
        live = self._ensure_live()
        live.keep_last(tail)  # what was placed leaves the live text
        # A code block, or display math not closed yet, shows in the code font.
        live.code(open_fence(tail) is not None or open_display_math(tail) is not None)
        self._show_footer()

    @property
    def live_messages(self) -> int:
        """Messages sent to live outputs (appends, drops, footers)."""
        rendering = self._rendering.messages if self._rendering else 0
        return self._retired_live[0] + (self._live.messages if self._live else 0) + rendering

    @property
    def live_bytes(self) -> int:
        """Bytes of answer text appended to live outputs (and of parts' Markdown sent to a
        live output that renders it)."""
        rendering = self._rendering
        rendered = rendering.text_bytes + rendering.markdown_bytes if rendering else 0
        return self._retired_live[1] + (self._live.text_bytes if self._live else 0) + rendered

    def _retire(self, live: LiveText, markdown: str) -> Any:
        messages, text_bytes = self._retired_live
        self._retired_live = (messages + live.messages, text_bytes + live.text_bytes)
        return cast(LiveTextSink, self.sink).settle(live, markdown)

    def _ensure_live(self) -> LiveText:
        if self._live is None:
            self._live = cast(LiveTextSink, self.sink).show_live()
            self._live_shown += 1
        return self._live

    @property
    def messages_sent(self) -> int:
        """Every message sent so far: display messages (live outputs shown included) and the
        live outputs' own."""
        return self.messages + self._live_shown + self.live_messages

    def _can_send(self, messages: int) -> bool:
        """Whether ``messages`` more keep the stream within :data:`MESSAGES_PER_S` by now."""
        return self.messages_sent + messages <= MESSAGES_PER_S * (self._now - self._started)

    def _output_at_live(self, markdown: str) -> Any:
        """A new Markdown output below the others: in the live output's place, if any."""
        if self._live is None:
            return self.sink.show(markdown)
        live, self._live = self._live, None
        return self._retire(live, markdown)

    # -- without a live output -------------------------------------------------------------

    def _render_affordable(self) -> bool:
        # A render sends the newest output (its finished parts, then the open block's preview),
        # or, when a part fills it, its finished parts and a new output with the rest: at most
        # the newest output and the tail either way. The end sends the answer once more (1x
        # on top of the ratio, in one output).
        newest = self._outputs[-1] if self._outputs else None
        cost = (newest.size if newest else 0) + self._fed_bytes - self._parted_bytes
        budget = REFRESH_BUDGET_RATIO * self._fed_bytes + REFRESH_BUDGET_SLACK
        if self._spent + cost > budget:
            return False
        # The render is the update's one message. A part that fills the newest output adds
        # its last show and a new output, which the end sends one message more: those are paid
        # from the messages (as are a placement's, with a live output).
        filling = newest is not None and self._full(newest)
        return not filling or self._can_send(2 + len(self._outputs) + 1)

    def _render(self) -> None:
        part = self._splitter.advance()
        if part is not None:
            self._gather(part)
        newest = self._outputs[-1] if self._outputs else self._open_output()
        preview = self._splitter.preview()
        if self._footer is not None and preview:
            preview += f"\n\n*{self._footer()}*"  # under the answer while it streams
        self._show(newest, newest.finished + preview)
        self._pending.clear()

    def _append_live(self) -> str:
        text = "".join(self._pending)
        self._pending.clear()
        self._ensure_live().append(text, self._footer_due())  # one message for both
        return text

    def _footer_due(self) -> str | None:
        """The progress line, when it is due again (it changes with every token)."""
        now = self._clock()
        if self._footer is None or now - self._footer_at < FOOTER_INTERVAL_S:
            return None
        self._footer_at = now
        return self._footer()

    def _show_footer(self) -> None:
        if self._footer is not None and self._live is not None:
            self._live.footer(self._footer())

    def _gather(self, part: Part, *, last: bool = False) -> None:
        """Add a finished part to the newest output, or to a new one when that one is full
        (not the ``last`` part: the end shows the answer in the first output anyway)."""
        self._parted_bytes += len(part.source.encode())
        newest = self._outputs[-1] if self._outputs else self._open_output()
        if not last and self._full(newest):
            self._show(newest, newest.finished)  # final: its preview goes
            newest = self._open_output()
        newest.parts.append(part)
        newest.size += len(part.source.encode())

    def _full(self, newest: _Output) -> bool:
        """Whether the next part goes into a new output below ``newest``."""
        before = sum(output.size for output in self._outputs[:-1])
        full = newest.size >= max(FIRST_OUTPUT_BYTES, before // 2)
        return bool(newest.parts) and full and len(self._outputs) < MAX_OUTPUTS - 1

    def _joined(self) -> str:
        return _piece([part for output in self._outputs for part in output.parts], first=True)

    def _open_output(self) -> _Output:
        """A new Markdown output below the others."""
        output = _Output()
        self._outputs.append(output)
        return output

    def _show(self, output: _Output, markdown: str) -> None:
        if markdown == output.shown:
            return
        if output.handle is None:
            output.handle = self.sink.show(markdown)
        else:
            self.sink.replace(output.handle, markdown)
        output.shown = markdown
        self.messages += 1
        self.payload_bytes += len(markdown.encode())
        self._spent += len(markdown.encode())

    def _finish(self) -> None:
        # The finished answer goes into one output: the frontend spaces blocks in separate
        # outputs otherwise (each output's last block has half the margin), and a link whose
        # definition came after it needs the whole answer. Each output is sent once here: two
        # quick updates of one output can render out of order in JupyterLab.
        if self._renders:
            self._finish_rendered()
            return
        if self._can_live:
            self._pending.clear()
            self._cut(final=True)
            if self._splitter.revised:
                whole = self._splitter.whole()
            else:
                whole = self._slots.joined() + _piece(self._unplaced, first=not self._slots.used)
            self._unplaced.clear()
            if self._slots.slots:
                self._slots.show_all(whole)
            elif whole:
                self._slots.place(whole)  # in the live output's place
            self.messages, self.payload_bytes = self._slots.messages, self._slots.payload_bytes
            self.renders.append((self._clock(), self._fed_chars))
            if self._live is not None:
                self._retire(self._live, "")
                self._live = None
                self.messages += 1  # its output emptied
            return
        # Nothing but the answer once: no full output shown just before the whole replaces it.
        part = self._splitter.advance(final=True)
        if part is not None:
            self._gather(part, last=True)
        if len(self._outputs) > 1 or self._splitter.revised:
            whole = self._splitter.whole() if self._splitter.revised else self._joined()
            self._show(self._outputs[0], whole)
            for output in self._outputs[1:]:
                self._show(output, "")
        elif self._outputs:
            self._show(self._outputs[-1], self._outputs[-1].finished)
