"""What to draw: an answer's Markdown, understood without any I/O.

Everything that decides *what* an answer looks like, while it streams and when it is done, is
in this package; *when* and *where* to draw it (timers, the byte budget, sinks, widgets,
terminals) is :mod:`chatnb.display`'s. Nothing here touches a kernel, a widget, a clock or a
file: each function takes text and returns text or positions, so every rule is tested alone
and the same rule serves the notebook, the browser's live view and the terminal.

- :mod:`.splitter`: streaming Markdown: finished blocks cut off as parts, the open block's
  preview, safe mode applied per part (:class:`MarkdownSplitter`, :func:`neutralize`);
- :mod:`.safety`: safe mode on the text itself: tags, images and script links escaped outside
  code, where the browser's Markdown renderer would read them;
- :mod:`.html_spans`: where an HTML element opened in the text ends, as a browser reads it;
- :mod:`.math_text`: what is math by the frontend's rule, and the rewrite VS Code needs;
- :mod:`.live_tail`: how much of the open tail the browser may render as it arrived.

The splitter's names are re-exported here (``from chatnb.markdown import MarkdownSplitter``).
"""

from __future__ import annotations

from .splitter import (
    MarkdownSplitter,
    Part,
    neutralize,
    open_fence,
    parser,
    preview,
    render,
    split,
    table_head,
)

__all__ = [
    "MarkdownSplitter",
    "Part",
    "neutralize",
    "open_fence",
    "parser",
    "preview",
    "render",
    "split",
    "table_head",
]
