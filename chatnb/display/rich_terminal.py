"""A terminal that renders Markdown through ``rich`` (the ``terminal`` extra).

Imported only when a terminal is chosen (:func:`~chatnb.display.terminal.terminal_sink`), so
``import chatnb`` does not import ``rich``.

The answer streams in two places. Finished blocks (cut off by the splitter of
:mod:`chatnb.markdown`) are printed once, rendered, and stay in the terminal's scrollback. Only
the open block is redrawn, in a ``rich.live.Live`` region under them, about ten times a second,
with the progress line under it. So the work is linear in the answer: each finished block is
rendered once, and a redraw costs the open block (one block, however long the answer), paced
by its own cost so that it never takes more than a tenth of the time. An open block taller than
the terminal shows its last lines (a region taller than the screen could not be cleared).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.markdown import Markdown
from rich.segment import Segment, Segments
from rich.text import Text

from ..markdown import MarkdownSplitter, open_fence, preview
from .terminal import printable

__all__ = ["RichSink"]

_WORDS = re.compile(r"\n|[^\S\n]+|\S+")

#: Redraws of the open block per second, at most.
REFRESH_PER_SECOND = 10.0
#: A redraw may take this share of the time, at most (it is paced by its own cost).
REDRAW_SHARE = 0.1


class RichSink:
    """Markdown rendered in a terminal by ``rich``.

    ``console``: a ``rich.console.Console`` (default: standard output). ``hyperlinks``: links
    as OSC 8 hyperlinks; off by default, so a link shows the address it goes to beside its
    text (a model's link text may say one place and go to another). ``auto_refresh=False``:
    the open block is redrawn only by :meth:`RichAnswer.refresh` (tests, benchmarks).
    """

    usage_line = True

    def __init__(
        self,
        console: Console | None = None,
        *,
        hyperlinks: bool = False,
        refresh_per_second: float = REFRESH_PER_SECOND,
        auto_refresh: bool = True,
        code_theme: str = "monokai",
    ) -> None:
        self.console = console if console is not None else Console(highlight=False)
        self.hyperlinks, self.code_theme = hyperlinks, code_theme
        self.refresh_per_second, self.auto_refresh = refresh_per_second, auto_refresh
        self._line_open = False
        self._column = 0  # where text written piece by piece has got to on its line
        self._held = ("", "")  # the last word written, maybe not complete yet, and its style

    def markdown(self, markdown: str) -> Markdown:
        """``markdown`` (a model's: control characters made visible) as ``rich`` renders it."""
        return Markdown(printable(markdown), hyperlinks=self.hyperlinks, code_theme=self.code_theme)

    def _end_line(self) -> None:
        self._write_held()
        if self._line_open:
            self.console.print()
            self._line_open, self._column = False, 0

    def print_markdown(self, markdown: str, *, gap: bool = False) -> None:
        """``markdown`` rendered without the blank lines ``rich`` leaves around some blocks
        (not others); ``gap``: one blank line above it, as between blocks of one document."""
        lines = _trimmed(self.console.render_lines(self.markdown(markdown), pad=False))
        if gap:
            lines.insert(0, [])
        self.console.print(Segments([s for line in lines for s in (*line, Segment.line())]))

    def show(self, markdown: str) -> list[str]:
        """Markdown rendered, and a blank line under it."""
        self._end_line()
        self.print_markdown(markdown)
        self.console.print()
        return [markdown]

    def replace(self, handle: list[str], markdown: str) -> None:
        if markdown != handle[0]:  # a terminal cannot take back: the new state below
            handle[0] = markdown
            self.show(markdown)

    def note(self, text: str) -> None:
        self.line(text, "dim")

    def write(self, text: str, style: str = "") -> None:
        """Text that arrives in pieces, wrapped between words as it comes: the last word of a
        piece waits for the next piece (or for anything else shown) to know where it ends."""
        if not text:
            return
        held, held_style = self._held
        if held and held_style != style:
            self._write_held()
            held = ""
        words = _WORDS.findall(held + printable(text))
        complete = words if words[-1].isspace() else words[:-1]
        self._held = ("", "") if complete is words else (words[-1], style)
        self._print_words(complete, style)

    def _write_held(self) -> None:
        held, style = self._held
        self._held = ("", "")
        if held:
            self._print_words([held], style)

    def _print_words(self, words: list[str], style: str) -> None:
        shown: list[str] = []
        for word in words:
            if word == "\n":
                self._column = 0
            elif self._column and self._column + cell_len(word) > self.console.width:
                shown.append("\n")
                self._column = 0 if word.isspace() else cell_len(word)
                if word.isspace():
                    continue  # the line break stands for the space
            else:
                self._column += cell_len(word)
            shown.append(word)
        if shown:
            self.console.print(Text("".join(shown), style=style), end="", soft_wrap=True)
            self._line_open = shown[-1] != "\n"

    def line(self, text: str, style: str = "") -> None:
        """One line: whitespace runs (newlines too) as one space, cut at the terminal's width."""
        self._end_line()
        shown = Text(printable(" ".join(text.split())), style=style)
        self.console.print(shown, no_wrap=True, overflow="ellipsis")

    def markdown_stream(self, footer: Callable[[], str] | None = None) -> RichAnswer:
        self._end_line()
        return RichAnswer(self, footer)


class RichAnswer:
    """One answer: finished blocks printed once, the open block redrawn live under them."""

    def __init__(self, sink: RichSink, footer: Callable[[], str] | None = None) -> None:
        self.sink, self.footer = sink, footer
        # The terminal fetches nothing and runs no HTML: the text is shown as written.
        self._splitter = MarkdownSplitter(allow_html=True, allow_remote_images=True, math=False)
        self._lock = threading.Lock()  # the splitter, between feeding and the redraw thread
        self._live: Live | None = None
        self._open = _OpenBlock(self)
        self._printed = 0
        self._tried_size = 0  # the open region's length at a cut that found nothing
        self.closed = False
        #: Finished blocks printed, and redraws of the open block (for tests and benchmarks).
        self.blocks = self.redraws = 0

    @property
    def text(self) -> str:
        with self._lock:
            return self._splitter.text

    def tail(self) -> str:
        with self._lock:
            return self._splitter.tail

    def feed(self, text: str) -> None:
        if not text or self.closed:
            return
        with self._lock:
            self._splitter.feed(text)
            part = self._cut(text, final=False)
        if self._live is None:
            self._live = Live(
                self._open,
                console=self.sink.console,
                refresh_per_second=self.sink.refresh_per_second,
                auto_refresh=self.sink.auto_refresh,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        if part:
            self._print(part)  # outside the lock: printing waits for the redraw thread

    def refresh(self) -> None:
        """Redraw the open block now (the live region's thread does it when it refreshes)."""
        if self._live is not None:
            self._live.refresh()

    def _cut(self, text: str, final: bool) -> str:
        """Finished blocks as one piece of Markdown, when a blank line may have ended one and
        the region grew by an eighth since a cut found nothing (so parsing stays linear)."""
        if not final:
            size = len(self._splitter.tail)
            if "\n" not in text or size < self._tried_size + self._tried_size // 8:
                return ""
            if "\n\n" not in self._splitter.tail[-len(text) - 2 :]:
                return ""
        part = self._splitter.advance(final=final)
        if part is None:
            self._tried_size = len(self._splitter.tail)
            return ""
        self._tried_size = 0
        self._open.changed()
        return part.markdown

    def _print(self, markdown: str) -> None:
        """Finished blocks, rendered once, one blank line from the blocks above them (as in
        one document: ``rich`` leaves blank lines around some blocks and not others)."""
        self.sink.print_markdown(markdown, gap=self._printed > 0)
        self._printed += 1
        self.blocks += 1

    def close(self) -> None:
        """Print what is left and end the live region (once)."""
        if self.closed:
            return
        self.closed = True
        with self._lock:
            rest = self._cut("", final=True)
        live, self._live = self._live, None
        if live is not None:
            live.stop()  # transient: the live region goes, the printed blocks stay
        if rest.strip():
            self._print(rest)


class _OpenBlock:
    """The live region: the open block (rendered as it will look, see
    :func:`chatnb.markdown.preview`), at most as tall as the terminal, and the progress line."""

    def __init__(self, answer: RichAnswer) -> None:
        self.answer = answer
        self._source: str | None = None
        self._lines: list[list[Segment]] = []
        self._rendered_at, self._cost = -float("inf"), 0.0
        self._stale = False

    def changed(self) -> None:
        """Blocks left the open region: the next redraw must not show them again."""
        self._stale = True

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        now = time.perf_counter()
        paced = now - self._rendered_at >= self._cost / REDRAW_SHARE
        if self._stale or paced:
            tail = self.answer.tail()
            if tail != self._source:
                self._render(tail, console, options)
        height = max(console.size.height - 2, 1)
        for line in self._lines[-height:]:
            yield from line
            yield Segment.line()
        footer = self.answer.footer
        if footer is not None and not self.answer.closed:
            yield Text(footer(), style="dim")

    def _render(self, tail: str, console: Console, options: ConsoleOptions) -> None:
        started = time.perf_counter()
        # Only the last lines show: the end of a long block is rendered, not all of it.
        lines = console.size.height
        shown = preview(_window(tail, lines, lines * console.width)).strip("\n")
        markdown = self.answer.sink.markdown(shown)
        self._lines = list(_lines(console, markdown, options)) if shown else []
        self._source, self._stale = tail, False
        self._rendered_at = time.perf_counter()
        self._cost = self._rendered_at - started
        self.answer.redraws += 1


def _lines(console: Console, renderable: Any, options: ConsoleOptions) -> Iterator[list[Segment]]:
    yield from console.render_lines(renderable, options.reset_height(), pad=False)


def _blank(line: list[Segment]) -> bool:
    """Nothing shows on ``line`` (no text, no background: a code block's margin shows)."""
    return all(not s.text.strip() and (s.style is None or not s.style.bgcolor) for s in line)


def _trimmed(lines: list[list[Segment]]) -> list[list[Segment]]:
    start, end = 0, len(lines)
    while start < end and _blank(lines[start]):
        start += 1
    while end > start and _blank(lines[end - 1]):
        end -= 1
    return lines[start:end]


_DELIMITER_ROW = re.compile(r"^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$", re.M)


def _start(tail: str, lines: int, chars: int) -> int:
    """Where the last ``lines`` lines of ``tail`` start, or later, from a line start (else a
    word), so that at most about ``chars`` characters are left."""
    start = end = len(tail.rstrip("\n"))
    for _ in range(lines):
        start = tail.rfind("\n", 0, start)
        if start < 0:
            break
    start += 1
    if len(tail) - start > chars:
        start = tail.find("\n", len(tail) - chars, end) + 1
        if start == 0:  # the last line is longer than that: its end, from a word
            start = tail.find(" ", len(tail) - chars, end) + 1
    return start


def _window(tail: str, lines: int, chars: int) -> str:
    """The end of ``tail`` (see :func:`_start`), made to render as the end of the whole does:
    an open code fence keeps its opening line, an open table its header and delimiter rows."""
    start = _start(tail, lines, chars)
    if start == 0:
        return tail
    head = ""
    fence = open_fence(tail)
    if fence is not None:
        opener = tail.rfind("\n" + fence) + 1  # the last line that starts with it
        if opener < start:
            head = tail[opener : tail.index("\n", opener) + 1]
    elif tail[start:].lstrip(" ").startswith("|"):
        rows = list(_DELIMITER_ROW.finditer(tail, 0, start))
        if rows:
            header = tail.rfind("\n", 0, rows[-1].start() - 1) + 1
            head = tail[header : rows[-1].end() + 1]
    return head + tail[start:]
