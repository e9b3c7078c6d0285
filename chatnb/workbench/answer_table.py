"""A finished grid of answers as one static output: what a saved notebook keeps.

While :func:`chatnb.compare` (or a small experiment) runs, its answers stream into a grid of
widgets; a viewer without widgets (GitHub, nbviewer, VS Code without the Jupyter extension)
shows such a grid as ``VBox(children=...)``. When the run ends, the grid is replaced by
:func:`table_bundle`: an HTML table with the same columns and rows, and the answers one after
another as plain text.

Every answer, prompt and variant name is untrusted. An answer goes through safe mode first
(:func:`chatnb.markdown.neutralize`, as a streamed answer does), then through markdown-it with
raw HTML off, images shown as their alt text (nothing is fetched), and links kept only for
``http:``, ``https:`` and ``mailto:``; names and prompts are escaped as plain text
(:func:`chatnb.markdown.safety.escape_text`).
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..markdown import neutralize
from ..markdown.math_text import frontend_math
from ..markdown.safety import escape_text

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

__all__ = ["Answer", "answer_html", "table_bundle"]

_LINK_SCHEMES = re.compile(r"(?:https?|mailto):", re.I)
#: Each cell's style: the notebook's table style right-aligns and centres vertically.
_CELL = "text-align: left; vertical-align: top; padding: 2px 6px"


@dataclass(frozen=True)
class Answer:
    """One cell of the table: the answer's text (Markdown) and, if it failed, why."""

    text: str
    error: str | None = None


def _image_as_alt(self: Any, tokens: Sequence[Any], idx: int, options: Any, env: Any) -> str:
    # An image is shown as its alt text: a saved notebook fetches nothing when opened.
    alt = self.renderInlineAsText(tokens[idx].children or [], options, env)
    return f"[{html.escape(alt) or 'image'}]"


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    md.add_render_rule("image", _image_as_alt)
    md.core.ruler.push("web_links_only", _web_links_only)
    return md


def _web_links_only(state: Any) -> None:
    """markdown-it refuses ``javascript:`` and the like; here a link is kept only to a web or
    mail address (a relative one would resolve against wherever the notebook is viewed), and
    any other shows as its text."""
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        kept, dropping = [], False
        for child in token.children:
            if child.type == "link_open":
                dropping = _LINK_SCHEMES.match(str(child.attrGet("href") or "")) is None
            elif child.type == "link_close" and dropping:
                dropping = False
                continue
            if not (child.type == "link_open" and dropping):
                kept.append(child)
        token.children = kept


def answer_html(markdown: str) -> str:
    """The HTML of an untrusted answer: safe mode, then markdown-it with HTML off, images as
    their alt text, links only to web and mail addresses. Math is kept as written (escaped),
    out of markdown-it's reach: its ``_`` and ``*`` are not emphasis, and a frontend that
    typesets HTML outputs (JupyterLab, Notebook 7) typesets it as it does the live answer."""
    safe = neutralize(markdown)
    spans = frontend_math(safe).spans if ("$" in safe or "\\" in safe) else ()
    if not spans:
        rendered: str = _renderer().render(safe)
        return rendered
    # Each span becomes a word that means nothing to Markdown, put back once rendered.
    key = f"chatnbmath{uuid.uuid4().hex}n"
    pieces, maths, last = [], [], 0
    for number, (start, end) in enumerate(spans):
        pieces.append(f"{safe[last:start]}{key}{number}x")
        maths.append(safe[start:end])
        last = end
    rendered = _renderer().render("".join(pieces) + safe[last:])
    return re.sub(f"{key}(\\d+)x", lambda found: html.escape(maths[int(found[1])]), rendered)


def _cell_html(answer: Answer) -> str:
    parts = [answer_html(answer.text)] if answer.text else []
    if answer.error is not None:
        parts.append(f"<p><em>failed: {escape_text(answer.error, 300)}</em></p>")
    # A long line of code scrolls inside its cell rather than widening the column.
    return f'<td style="{_CELL}"><div style="overflow-x: auto">{"".join(parts)}</div></td>'


def _html(names: Sequence[str], labels: Sequence[str], rows: Sequence[Sequence[Answer]]) -> str:
    head = "".join(f'<th style="{_CELL}">{escape_text(name, 200)}</th>' for name in names)
    body = []
    for index, row in enumerate(rows):
        if len(labels) > 1:  # as in the live grid: a row's label only when there are several
            label = escape_text(labels[index], 120)
            body.append(f'<tr><td colspan="{len(names)}" style="{_CELL}"><i>{label}</i></td></tr>')
        body.append("<tr>" + "".join(_cell_html(answer) for answer in row) + "</tr>")
    return (
        '<table style="table-layout: fixed; width: 100%">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _plain(names: Sequence[str], labels: Sequence[str], rows: Sequence[Sequence[Answer]]) -> str:
    blocks = []
    for index, row in enumerate(rows):
        for name, answer in zip(names, row, strict=True):
            title = f"{labels[index]} · {name}" if len(labels) > 1 else name
            text = answer.text.strip()
            if answer.error is not None:
                text = f"{text}\n(failed: {answer.error})".strip()
            blocks.append(f"── {' '.join(title.split())} ──\n{text}")
    return "\n\n".join(blocks)


def table_bundle(
    names: Sequence[str], labels: Sequence[str], rows: Sequence[Sequence[Answer]]
) -> dict[str, str]:
    """The display data of a finished grid: a column per variant (``names``), a row per
    prompt (``labels``, shown when there are several), ``rows[i][j]`` the answer of prompt
    ``i`` to variant ``j``; ``text/html`` and a ``text/plain`` fallback."""
    return {"text/html": _html(names, labels, rows), "text/plain": _plain(names, labels, rows)}
