"""Terminals: what a script, ``chatnb demo`` or IPython's terminal shows.

A terminal cannot take back what it printed, so an answer gets views of its own there
(:mod:`~chatnb.display.terminal_views`), chosen once by :func:`~chatnb.display.views.answer_views`
for any :class:`TerminalSink`. Two terminals:

* :class:`TextSink`: plain text, written as it arrives (pipes, files, CI, or no ``rich``);
* :class:`~chatnb.display.rich_terminal.RichSink`: Markdown rendered by ``rich`` (the
  ``terminal`` extra), chosen by :func:`~chatnb.display.sinks.terminal_sink` when standard
  output is a terminal.

Either way, the model's text goes through :func:`printable` first: a model (or a server
pretending to be one) must not be able to send escape sequences to the terminal (colours,
a moved cursor, a retitled window, an OSC 8 hyperlink that hides where it goes).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any, Protocol, TextIO, runtime_checkable

__all__ = ["TerminalSink", "TerminalText", "TextSink", "printable"]

# C0 controls but tab and newline, DEL, and the C1 controls (U+0080-U+009F: CSI and OSC in
# their 8-bit form). A carriage return is dropped: it would let a line overwrite itself.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x0D:
        return ""
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode control pictures: ESC shows as ␛
    return "␡" if code == 0x7F else "\ufffd"


def printable(text: str) -> str:
    """``text`` with every control character but tab and newline made visible (ESC as ␛),
    so it can reach a terminal as text only. Carriage returns are dropped."""
    return _CONTROL.sub(_visible, text)


@runtime_checkable
class TerminalSink(Protocol):
    """A terminal: prints below what it printed, never replaces it.

    Besides the :class:`~chatnb.display.sinks.DisplaySink` methods (``show`` prints Markdown,
    ``replace`` prints what is new), the terminal views use these."""

    #: Whether the answer's usage goes under it (a rendered terminal; plain text is kept a
    #: clean transcript).
    usage_line: bool

    def show(self, markdown: str) -> Any: ...

    def replace(self, handle: Any, markdown: str) -> None: ...

    def note(self, text: str) -> None: ...

    def write(self, text: str, style: str = "") -> None:
        """Text of the model's that arrives in pieces (reasoning), on the current line."""

    def line(self, text: str, style: str = "") -> None:
        """A line of its own (a tool call, a result)."""

    def markdown_stream(self, footer: Callable[[], str] | None = None) -> TerminalText:
        """Where the answer's Markdown goes as it arrives; ``footer``: a line under it while
        it streams, where the terminal can take it back."""


class TerminalText(Protocol):
    """The answer as it streams into a terminal."""

    @property
    def text(self) -> str: ...

    def feed(self, text: str) -> None: ...

    def close(self) -> None: ...


class TextSink:
    """Plain text, written as it arrives (scripts, pipes, files, frontends without displays).

    A terminal cannot take back what it printed: :meth:`replace` prints only what the new text
    adds to the old, or the new text on a line of its own when it is not a continuation.
    """

    usage_line = False

    def __init__(self, file: TextIO | None = None) -> None:
        self.file = file
        self._line_open = False

    def _write(self, text: str) -> None:
        if not text:
            return
        file = self.file or sys.stdout
        file.write(printable(text))
        file.flush()
        self._line_open = not text.endswith("\n")

    def show(self, markdown: str) -> list[str]:
        self._write(markdown)
        return [markdown]

    def replace(self, handle: list[str], markdown: str) -> None:
        (shown,) = handle
        if markdown.startswith(shown):
            self._write(markdown[len(shown) :])
        else:
            self._write(("\n" if self._line_open else "") + markdown)
        handle[0] = markdown

    def note(self, text: str) -> None:
        """A line of its own, also after text that did not end one."""
        self._write(("\n" if self._line_open else "") + text + "\n")

    def write(self, text: str, style: str = "") -> None:
        self._write(text)

    def line(self, text: str, style: str = "") -> None:
        self.note(text)

    def markdown_stream(self, footer: Callable[[], str] | None = None) -> _PlainText:
        return _PlainText(self)


class _PlainText:
    """The answer as typed, each piece once as it arrives, and a newline at the end if the
    text did not end with one."""

    def __init__(self, sink: TextSink) -> None:
        self.sink = sink
        self._pieces: list[str] = []
        self._ended_with_newline = True

    @property
    def text(self) -> str:
        return "".join(self._pieces)

    def feed(self, text: str) -> None:
        if text:
            self._pieces.append(text)
            self.sink.write(text)
            self._ended_with_newline = text.endswith("\n")

    def close(self) -> None:
        if not self._ended_with_newline:
            self.sink.write("\n")
