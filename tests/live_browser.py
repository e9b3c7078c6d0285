"""A model of the browser side of the live widget (chatnb/display/live_markdown.js).

It applies each message as the script does and records every Markdown document the script
would hand to the frontend's renderer (each frozen part once; of the open tail, what the draw
after that message renders: the finished blocks before its last block when they change, and
of a growing table or code block only its new lines and its last line, each under the block's
head), and the plain text shown after it. The open tail's HTML is put together from those
renderings as the script puts the DOM together (rows moved into the live table's body, code
into its <code>), with markdown-it as the renderer, so a test can compare it with the whole
tail's rendering. Tests judge the documents with the frontend's own parser (marked) or with
markdown-it; the browser tests check the script itself in JupyterLab.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from chatnb.display.live_markdown import LiveMarkdown
from chatnb.markdown import render


def _utf16_slice(text: str, start: int, end: int | None = None) -> str:
    units = text.encode("utf-16-le")
    return units[2 * start : None if end is None else 2 * end].decode("utf-16-le")


@dataclass
class LiveState:
    """What the reader sees after one message: frozen parts, the rendered tail, plain text."""

    parts: list[str]
    tail: str
    plain: str
    math: bool
    drawn: str = ""  # the open tail's HTML as the draw put it together
    documents: list[str] = field(default_factory=list)  # of the tail, rendered by this draw


_ROWS = re.compile(r"<tr>\n.*?</tr>\n", re.S)


def _grown_by(html: str, kind: str) -> tuple[list[str], str]:
    """What a rendering of a growing block's head and some lines adds to it: table rows or
    code (the script's ``addedBy``), and what comes after the block."""
    if kind == "table":
        end = html.index("</table>\n") + len("</table>\n")
        body = html[:end].partition("<tbody>\n")[2]
        return _ROWS.findall(body), html[end:]
    start = html.index(">", html.index("<code")) + 1
    end = html.index("</code></pre>\n")
    return [html[start:end]], html[end + len("</code></pre>\n") :]


@dataclass
class _Block:
    """A growing block as shown: its rendering's frame, its rows (or code), its last line."""

    kind: str
    grown: str
    frame: tuple[str, str]  # the HTML before and after its rows (or code)
    inner: list[str]
    last: str = ""
    pending: list[str] = field(default_factory=list)
    after: str = ""

    def html(self) -> str:
        inner = self.inner + self.pending
        if self.kind == "table" and inner and "<tbody>" not in self.frame[0]:
            rows = "<tbody>\n" + "".join(inner) + "</tbody>\n"
            return self.frame[0] + rows + self.frame[1] + self.after
        return self.frame[0] + "".join(inner) + self.frame[1] + self.after


def _frame(html: str, kind: str) -> tuple[str, str, list[str]]:
    if kind == "table":
        rows, _ = _grown_by(html, kind)
        head, _, _ = html.partition("<tbody>\n")
        return (
            (head + "<tbody>\n", "</tbody>\n</table>\n", rows)
            if rows
            else (html.replace("</table>\n", ""), "</table>\n", [])
        )
    start = html.index(">", html.index("<code")) + 1
    end = html.index("</code></pre>\n")
    return html[:start], html[end:], [html[start:end]]


# The script's settlePoint: characters that may pair with later ones, and what a code span
# may not hold.
_PAIRS_LATER = set("*_~[]<\\$|")
_NOT_IN_CODE = set("|$\\")


def settle_point(text: str, start: int) -> tuple[int, bool]:
    """The last settle point of ``text`` after ``start`` (``start`` if none), and whether no
    later text can add one (the script's ``settlePoint``)."""
    at, i = start, start + 1
    while i < len(text):
        c = text[i]
        if c == "`":
            end = _code_span_end(text, i)
            if end < 0:
                return at, end == -2
            i = end
            continue
        if c in _PAIRS_LATER:
            return at, True
        if c == " " and not text[i - 1].isspace() and text[i + 1 : i + 2].isalpha():
            at = i
        i += 1
    return at, False


def _code_span_end(text: str, start: int) -> int:
    i = start
    while i < len(text) and text[i] == "`":
        i += 1
    run = i - start
    while i < len(text):
        if text[i] in _NOT_IN_CODE:
            return -2
        if text[i] != "`":
            i += 1
            continue
        opened = i
        while i < len(text) and text[i] == "`":
            i += 1
        if i - opened == run:
            return i
    return -1


_PARAGRAPH = re.compile(r"<p>(.*)</p>\n", re.S)


def _words(html: str) -> str | None:
    """What a piece of a growing paragraph renders to inside its one <p> (None: not one)."""
    match = _PARAGRAPH.fullmatch(html)
    return match.group(1) if match and "<p>" not in match.group(1) else None


@dataclass
class _Paragraph:
    """A paragraph growing by words: its settled text, the HTML of its pieces, its last words."""

    grown: str
    inner: list[str]
    last: str = ""
    pending: str = ""

    def html(self) -> str:
        return "<p>" + " ".join([*self.inner, self.pending]) + "</p>\n"


class TailModel:
    """The script's ``prepare`` and ``apply`` on HTML strings: what each draw renders, and
    the open tail's HTML it puts together."""

    def __init__(self) -> None:
        self.head: str = ""
        self.head_html = ""
        self.block: _Block | None = None
        self.paragraph: _Paragraph | None = None
        self.refused: Any = None  # the tail that did not grow as a paragraph
        self.rest: str | None = None
        self.rest_html = ""

    def draw(self, tail: str, block: list[Any] | None, key: Any = None) -> tuple[str, list[str]]:
        """One draw of ``tail``; ``key`` tells which open tail it is (the script's tailKey)."""
        documents: list[str] = []

        def rendered(markdown: str) -> str:
            documents.append(markdown)
            return render(markdown) if markdown else ""

        at, kind = (block[0], block[1]) if block and block[0] <= len(tail) else (0, None)
        head, rest = tail[:at], tail[at:]
        if head != self.head:
            self.head, self.head_html = head, rendered(head)
        lines = rest.rfind("\n") + 1
        opening = _opening(rest, kind)
        if kind and 0 < opening <= lines:
            self._grow(rest[:lines], rest[lines:], rest[:opening], kind, rendered)
            self.rest = self.paragraph = None
            return self.head_html + self.block.html(), documents  # type: ignore[union-attr]
        self.block = None
        key = (key, at)
        if not kind and self.refused != key:
            grown = self._grow_words(rest, rendered)
            if grown:
                self.rest = None
                return self.head_html + self.paragraph.html(), documents  # type: ignore[union-attr]
            if grown is False:
                self.refused = key
        if rest != self.rest or self.paragraph is not None:
            self.rest, self.rest_html = rest, rendered(rest)
        self.paragraph = None
        return self.head_html + self.rest_html, documents

    def _grow_words(self, rest: str, rendered: Any) -> bool | None:
        """The script's ``prepareParagraph``: True if the tail shows as a growing paragraph,
        None if it has no settle point yet, False if a piece did not render as a paragraph."""
        old = self.paragraph
        if old is not None and not (
            rest.startswith(old.grown) and rest[len(old.grown) : len(old.grown) + 1] == " "
        ):
            old = None
        start = len(old.grown) if old else 0
        at, _ = settle_point(rest, start)
        if not at:
            return None
        grown, last = rest[:at], rest[at + 1 :]
        if old is None:
            words = _words(rendered(grown))
            if words is None:
                return False
            old, changed = _Paragraph(grown, [words]), True
        else:
            changed = at > start or last != old.last
            if at > start:
                words = _words(rendered(rest[start + 1 : at]))
                if words is None:
                    return False
                old = _Paragraph(grown, [*old.inner, words], old.last, old.pending)
        if changed:
            pending = _words(rendered(last))
            if pending is None:
                return False
            old = _Paragraph(old.grown, old.inner, last, pending)
        self.paragraph = old
        return True

    def _grow(self, grown: str, last: str, top: str, kind: str, rendered: Any) -> None:
        old = self.block
        if old and old.kind == kind and len(old.grown) >= len(top) and grown.startswith(old.grown):
            added = grown[len(old.grown) :]
            if added:
                old.inner += _grown_by(rendered(top + added), kind)[0]
            changed = bool(added) or last != old.last
            old.grown = grown
        else:
            before, after, inner = _frame(rendered(grown), kind)
            old = self.block = _Block(kind, grown, (before, after), inner)
            changed = True
        if changed:
            old.pending, old.after = _grown_by(rendered(top + last), kind) if last else ([], "")
            old.last = last


def _opening(rest: str, kind: str | None) -> int:
    """Where a growing block's head ends: a table's two lines, a code block's fence line."""
    if kind == "table":
        return rest.find("\n", rest.find("\n") + 1) + 1
    return rest.find("\n") + 1 if kind == "code" else 0


@dataclass
class _Widget:
    browser: LiveBrowser
    text: str = ""
    parts: list[str] = field(default_factory=list)
    plain: int | None = None
    math: bool = False
    block: list[Any] | None = None
    closed: bool = False
    view: TailModel = field(default_factory=TailModel)

    def send(self, message: dict[str, Any]) -> None:
        self.browser.messages.append(message)
        self.text += message.get("append", "")
        for part in message.get("freeze", []):
            source = _utf16_slice(self.text, 0, part["n"])
            self.text = _utf16_slice(self.text, part["n"])
            self.parts.append(part.get("markdown", source))
            self.browser.rendered.append(self.parts[-1])
        self.plain = message.get("plain", self.plain)
        self.math = message.get("math", self.math)
        self.block = message.get("block", self.block)
        cut = len(self.text.encode("utf-16-le")) // 2 if self.plain is None else self.plain
        tail, plain = _utf16_slice(self.text, 0, cut), _utf16_slice(self.text, cut)
        block = self.block
        if block is not None and block[0] <= len(tail.encode("utf-16-le")) // 2:
            block = [len(_utf16_slice(tail, 0, block[0])), block[1]]  # code units to characters
        else:
            block = None
        drawn, documents = self.view.draw(tail, block, len(self.parts))
        self.browser.rendered += documents
        state = LiveState(list(self.parts), tail, plain, self.math, drawn, documents)
        self.browser.states.append(state)

    def close(self) -> None:
        self.closed = True


class LiveBrowser:
    """A sink whose frontend renders the live widget (JupyterLab), as a list of outputs."""

    appends_only = False
    renders_live = True

    def __init__(self) -> None:
        self.outputs: list[str] = []
        self.rendered: list[str] = []  # every document the frontend rendered, in order
        self.states: list[LiveState] = []
        self.messages: list[dict[str, Any]] = []
        self.widgets: list[_Widget] = []

    def show(self, markdown: str) -> int:
        self.outputs.append(markdown)
        self.rendered.append(markdown)
        return len(self.outputs) - 1

    def replace(self, handle: int, markdown: str) -> None:
        self.outputs[handle] = markdown
        self.rendered.append(markdown)

    def note(self, text: str) -> None:
        pass

    def show_live_markdown(self) -> LiveMarkdown:
        self.widgets.append(_Widget(self))
        self.outputs.append("")
        return LiveMarkdown(self.widgets[-1], len(self.outputs) - 1)

    def settle(self, live: Any, markdown: str) -> int:
        self.outputs[live.position] = markdown
        self.rendered.append(markdown)
        live.close()
        return int(live.position)
