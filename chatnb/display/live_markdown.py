"""The live answer, rendered in the browser as it arrives: one widget per answer.

A notebook output can only be *replaced*, so a Markdown output re-rendered as an answer grows
costs its whole size each time, and what the reader reads lags behind what arrived. This widget
(an `anywidget <https://anywidget.dev>`_, ``live_markdown.js`` beside this file) takes the
other way: the text crosses the wire once, by appending, and the browser renders it with the
frontend's own Markdown renderer (the notebook's rendermime: JupyterLab's and Notebook 7's
parser, math and highlighting, exactly what the final Markdown output gets). Finished blocks
are rendered once and frozen in the page; only the open block is rendered again, at most once an
animation frame.

What the kernel decides and sends with the text (one message, so the browser never renders a
state the kernel did not check):

* ``freeze``: the parts cut off as finished, with the Markdown to show for each where it is
  not the text itself (safe mode's escapes, the math rewrite, link definitions from other
  parts);
* ``plain``: where the open tail stops being rendered (see
  :mod:`chatnb.markdown.live_tail`); from there it shows as plain text, ``math`` in the code font;
* ``block``: where the tail's last block starts, and whether the browser grows it by its new
  lines (a table's rows, a code block's lines; see
  :class:`chatnb.markdown.live_tail.GrowingBlock`), so that a draw renders O(new text) even
  inside one long block (a paragraph the browser grows by words itself: its settle points
  depend on the text alone);
* ``footer``: the progress line under the answer.

When the answer ends its last parts are frozen (the live view then looks as the final output
will), its output is replaced by one ordinary Markdown output, and the widget is closed, so a
saved notebook holds Markdown and no widget. The frontends render that replacement within the
frame (JupyterLab and Notebook 7 were measured: the page does not move,
``tests/test_browser.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["LiveMarkdown", "close_with_layout", "live_markdown_widget", "utf16_length"]


def utf16_length(text: str) -> int:
    """The length of ``text`` in UTF-16 code units, as JavaScript counts it."""
    return len(text.encode("utf-16-le")) // 2


def close_with_layout(widget: Any) -> None:
    """Close ``widget`` and the layout widget every DOM widget gets: closing a widget leaves
    its layout open (one comm and model per answer, 2,000 after 2,000 asks)."""
    layout = getattr(widget, "layout", None)
    widget.close()
    if layout is not None:
        layout.close()


@lru_cache(maxsize=1)
def _widget_class() -> type:
    # anywidget (and ipywidgets under it) is imported on first use: ``import chatnb`` stays light.
    import anywidget
    import traitlets

    script = resources.files(__package__).joinpath("live_markdown.js").read_text("utf-8")

    class _LiveMarkdownWidget(anywidget.AnyWidget):
        _esm = script
        key = traitlets.Unicode("").tag(sync=True)
        text = traitlets.Unicode("").tag(sync=True)

    return _LiveMarkdownWidget


def live_markdown_widget() -> Any:
    """A new live-Markdown widget (an ``anywidget.AnyWidget``), empty."""
    return _widget_class()(key=uuid.uuid4().hex)


class LiveMarkdown:
    """A live-Markdown widget as the stream drives it: one message per update.

    ``position`` is the sink's handle of the output the widget is shown in, which the stream
    replaces with the whole answer's Markdown when it ends.
    """

    def __init__(self, widget: Any, position: Any) -> None:
        self.widget, self.position = widget, position
        self._footer = ""
        self._plain: int | None = None
        self._math = False
        self._block: tuple[int, str | None] | None = None
        #: Custom messages sent, the bytes of answer text they carried, and the bytes of
        #: Markdown sent for parts whose Markdown is not their text.
        self.messages = self.text_bytes = self.markdown_bytes = 0

    def update(
        self,
        append: str = "",
        *,
        freeze: Sequence[tuple[str, str]] = (),
        plain: int | None = None,
        math: bool = False,
        block: tuple[int, str | None] | None = None,
        footer: str | None = None,
    ) -> None:
        """Send what changed, in one message: ``append`` (new text), ``freeze`` (the parts
        cut off the open text, as (source, markdown) pairs), ``plain`` (where the open tail
        shows as plain text, in UTF-16 code units; None: nowhere), ``math`` (that plain text
        is display math still open), ``block`` (where the open tail's last block starts, in
        UTF-16 code units, and whether it grows by lines: ``"table"``, ``"code"`` or None;
        None: nothing before it is known to be finished) and ``footer``."""
        message: dict[str, Any] = {}
        if append:
            message["append"] = append
            self.text_bytes += len(append.encode())
        if freeze:
            message["freeze"] = [self._part(source, markdown) for source, markdown in freeze]
        if plain != self._plain or (freeze and plain is not None):
            self._plain = message["plain"] = plain
        if math != self._math:
            self._math = message["math"] = math
        if block != self._block or (freeze and block is not None):
            self._block = block
            message["block"] = None if block is None else list(block)
        if footer is not None and footer != self._footer:
            self._footer = message["footer"] = footer
        if message:
            self._send(message)

    def _part(self, source: str, markdown: str) -> dict[str, Any]:
        part: dict[str, Any] = {"n": utf16_length(source)}
        if markdown != source:
            part["markdown"] = markdown
            self.markdown_bytes += len(markdown.encode())
        return part

    def _send(self, message: dict[str, Any]) -> None:
        self.widget.send(message)
        self.messages += 1

    def close(self) -> None:
        """Free the widget (its output has been replaced)."""
        close_with_layout(self.widget)
