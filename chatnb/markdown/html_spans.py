"""Where raw HTML elements span several Markdown blocks.

CommonMark ends an HTML block at a blank line, so ``<details>``, a blank line, a code block and
``</details>`` are three blocks to markdown-it and to marked. The browser then parses the HTML
they render to as one document, and the code lands inside the details box. Rendered as separate
outputs, the first output's ``<details>`` is closed by the browser at its end and the code falls
out. :func:`element_spans` finds such elements, so that a splitter never cuts inside one.

Only elements that must be closed explicitly count: void elements (``<br>``) close themselves
and elements with optional end tags (``<p>``, ``<li>``, ``<td>``) are closed by what follows,
so a model that leaves them open does not hold the answer back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["element_spans"]

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*?)?\s*(/?)>")
_COMMENT = re.compile(r"<!--[\s\S]*?-->")
_VOID = "area base br col embed hr img input link meta param source track wbr"
_OPTIONAL_END = "p li dt dd tr td th thead tbody tfoot option optgroup colgroup caption rt rp"
_SELF_CLOSING = frozenset(f"{_VOID} {_OPTIONAL_END}".split())


def element_spans(blocks: Iterable[tuple[int, str]]) -> list[tuple[int, int | None]]:
    """For HTML blocks given as (first line, source) in order, the elements that one block
    opens and a later one closes, as (line of the opening block, line of the closing block);
    ``None`` for an element not closed yet. A cut at line ``n`` with ``start < n <= end``
    would split such an element."""
    stack: list[tuple[str, int]] = []
    spans: list[tuple[int, int | None]] = []
    for line, source in blocks:
        for closing, name, self_closed in _tags(source):
            if self_closed or name in _SELF_CLOSING:
                continue
            if not closing:
                stack.append((name, line))
                continue
            names = [open_name for open_name, _ in stack]
            if name not in names:
                continue  # a stray closer, which the browser ignores
            depth = len(names) - 1 - names[::-1].index(name)
            # The browser closes what is still open inside it along with it.
            for _, opened in stack[depth:]:
                if opened < line:
                    spans.append((opened, line))
            del stack[depth:]
    spans += [(opened, None) for _, opened in stack]
    return spans


def _tags(source: str) -> Iterable[tuple[bool, str, bool]]:
    for match in _TAG.finditer(_COMMENT.sub("", source)):
        yield bool(match.group(1)), match.group(2).lower(), bool(match.group(3))
