"""Streaming Markdown, split into parts that never change once they are finished.

A streamed answer grows at its end. Re-rendering all of it on every token costs O(n²); this
module finds the prefix that can no longer change and cuts it off as a :class:`Part`, so a
display only ever re-renders the open tail.

Boundaries come from a real CommonMark parser (markdown-it-py) run on complete lines only:
every top-level block but the last is finished, because CommonMark never reopens a closed
block. The last block can still change (a setext underline, a table's delimiter row, a list
turning loose, a lazy continuation, a closing fence), so it stays open. The one non-local rule
of CommonMark is the link reference definition, which may come after the link that uses it. A
part that uses a definition made in another part gets that definition prepended (definitions
render to nothing), so each part rendered on its own gives the HTML the whole text gives. A
label not defined yet does not hold a block open (footnotes, task lists and TeX's ``\\left[``
look up labels that are never defined, and would stall the display); in the rare case that its
definition comes later, :attr:`MarkdownSplitter.revised` says that the whole must be shown
again.

Math is never cut through, as JupyterLab pairs it nor as the model meant it
(:mod:`chatnb.markdown.math_text`), and parts show it the way the model meant it (``math=True``).

Untrusted text: :func:`neutralize` rewrites Markdown so that raw HTML shows as text and images
with remote URLs show as links (a remote image is fetched by the browser the moment it is
rendered, which is how an injected prompt can leak a conversation to an outside server).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .html_spans import element_spans
from .math_text import (
    MathScan,
    frontend_code,
    frontend_math,
    math_scan,
    open_display_math,
    rewrite_math,
)
from .safety import code_ranges, escape_unsafe, is_harmless_html

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token

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

# markdown-it's own line-ending rule (core "normalize"): \r\n, \r and \n all end a line.
_NEWLINE = re.compile(r"\r\n?|\n")
_NOT_REMOTE_SCHEMES = frozenset({"", "data", "attachment"})
#: Characters for which math or an HTML element left open holds the cuts after it back.
HOLD_LIMIT = 16_000


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    """CommonMark with GitHub's tables and strikethrough, as LLMs write them."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    md.core.ruler.at("inline", _inline_noting_lines)
    return md


def render(markdown: str) -> str:
    """The HTML of ``markdown`` (the oracle the splitter is tested against)."""
    html: str = parser().render(markdown)
    return html


class _Probe(dict[str, Any]):
    """Link reference definitions that remember every lookup, with the line it came from."""

    def __init__(self, known: dict[str, Any]) -> None:
        super().__init__(known)
        self.line = 0
        self.lookups: list[tuple[int, str, bool]] = []

    def get(self, key: str, default: Any = None) -> Any:
        value = super().get(key, default)
        self.lookups.append((self.line, key, value is not None))
        return value


def _inline_noting_lines(state: StateCore) -> None:
    """markdown-it's core ``inline`` rule, telling a :class:`_Probe` which line is parsed."""
    probe = state.env.get("references")
    for token in state.tokens:
        if token.type != "inline":
            continue
        if isinstance(probe, _Probe) and token.map:
            probe.line = token.map[0]
        if token.children is None:
            token.children = []
        state.md.inline.parse(token.content, state.md, state.env, token.children)


@dataclass(frozen=True)
class Part:
    """A finished piece of the text: ``source`` exactly as fed, ``markdown`` as shown.

    ``markdown`` is ``source`` with the link definitions it needs from other parts prepended,
    and with the safety rewrites of :func:`neutralize` when they are on.
    """

    source: str
    markdown: str
    #: ``markdown`` begins with link definitions from other parts: placed after a paragraph,
    #: they need a blank line before them, or they would continue it.
    prefixed: bool = False


def _complete_length(text: str) -> int:
    """Length of the complete lines of ``text`` (a trailing ``\\r`` may still become ``\\r\\n``)."""
    end = 0
    for match in _NEWLINE.finditer(text):
        if match.group() == "\r" and match.end() == len(text):
            break
        end = match.end()
    return end


# The start of a line that is, or may still become, a list item, or a link reference
# definition (which would be read with its line cut short: a truncated address).
_UNSETTLED_START = re.compile(r"[ \t]*(?:[-+*](?:[ \t]|$)|\d{1,9}(?:[.)](?:[ \t]|$)|$)|\[)")


def _parsed_length(text: str) -> int:
    """How much of ``text`` a cut may look at: its complete lines, and the line after them if
    it follows a blank line and holds a character that settles where it belongs. After a
    blank line no lazy continuation or setext underline joins a line to the paragraph above,
    its indentation (whether it continues a list item or a code block) is fixed with its first
    character, and only a list item's marker could still join it to a list above (``2`` may
    become ``2. b``). So the blocks before the one it is in are finished, and a one-line
    paragraph does not wait for its line to end before the heading above it is cut off. A
    line that may be a link reference definition waits for its end: cut short, its address
    would be read truncated (and definitions reach every part)."""
    end = _complete_length(text)
    if end == len(text) or not text[end:].strip(" \t\r") or _UNSETTLED_START.match(text, end):
        return end
    line_end = end - text.endswith("\n", 0, end)
    line_end -= text.endswith("\r", 0, line_end)
    start = line_end
    while start > 0 and text[start - 1] in " \t":
        start -= 1
    blank = start == 0 or text[start - 1] in "\r\n"
    return len(text) if end > 0 and blank else end


def _line_starts(text: str) -> list[int]:
    """Where each line of ``text`` starts (markdown-it's line numbers index it), and its end."""
    return [0, *(match.end() for match in _NEWLINE.finditer(text))]


def _block_starts(tokens: list[Token]) -> list[int]:
    return [t.map[0] for t in tokens if t.level == 0 and t.nesting >= 0 and t.map is not None]


def _definition(label: str, ref: dict[str, Any]) -> str:
    """A link reference definition that parses back to ``ref`` (as markdown-it keeps it)."""
    href = ref["href"].replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E")
    line = f"[{label}]: <{href}>"
    if ref["title"]:
        title = ref["title"].replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
        line += f' "{title}"'
    return line


class MarkdownSplitter:
    """Cuts a growing Markdown text into finished :class:`Part` s and an open tail.

    Pure: no I/O, no clock. :meth:`feed` text, call :meth:`advance` when a render is due; it
    returns the newly finished part, if any. :meth:`advance` with ``final=True`` finishes
    everything. Parsing covers only the open region, so a render costs O(tail), not O(text).
    """

    def __init__(
        self, *, allow_html: bool = True, allow_remote_images: bool = True, math: bool = True
    ) -> None:
        self.allow_html = allow_html
        self.allow_remote_images = allow_remote_images
        self.math = math
        self._parts: list[Part] = []
        self._open = ""
        self._pending: list[str] = []
        self._known: dict[str, Any] = {}
        self._missed: set[str] = set()  # labels that parts already cut looked up in vain
        #: A definition came after a part that used its label: that part renders otherwise
        #: than in the whole text, and the whole (:meth:`whole`) should be shown again.
        self.revised = False

    def feed(self, text: str) -> None:
        if text:
            self._pending.append(text)

    @property
    def parts(self) -> list[Part]:
        return list(self._parts)

    @property
    def tail(self) -> str:
        """The text not yet in a part."""
        self._merge_pending()
        return self._open

    @property
    def text(self) -> str:
        return "".join(part.source for part in self._parts) + self.tail

    def _merge_pending(self) -> None:
        if self._pending:
            self._open += "".join(self._pending)
            self._pending.clear()

    def advance(self, final: bool = False) -> Part | None:
        """Cut off what can no longer change (everything when ``final``) as one part."""
        self._merge_pending()
        region = self._open
        end = len(region) if final else _parsed_length(region)
        if end == 0:
            return None
        probe = _Probe(self._known)
        tokens = parser().parse(region[:end], {"references": probe})
        if final:
            boundary, cut = None, len(region)
        else:
            # Blocks before ``boundary`` are finished: all but the last, with no cut through
            # math. A label not defined yet does not hold them back (footnotes, task lists
            # and "\left[" look labels up that never come); if its definition does come,
            # ``revised`` says so.
            boundary, cut = self._boundary(region[:end], _block_starts(tokens)[1:], tokens)
            if boundary == 0:
                return None
        part = self._make_part(region[:cut], probe, boundary, tokens)
        self._parts.append(part)
        self._open = region[cut:]
        return part

    def _boundary(self, region: str, lines: list[int], tokens: list[Token]) -> tuple[int, int]:
        """The last of the block starts ``lines`` that cuts through no math (as the frontend
        pairs it, nor as the model meant it) and no HTML element spanning blocks, and its
        offset; (0, 0) if none does. Math or an element left open holds cuts back for at
        most :data:`HOLD_LIMIT` characters: a stray ``$$`` or ``<div>`` must not stop the
        display (the finished answer is shown whole anyway)."""
        starts = _line_starts(region)
        held = _held_lines(region, starts, tokens)
        lines = [line for line in lines if not held(line)]
        if not lines:
            return 0, 0
        if "$" not in region and "\\" not in region:
            return lines[-1], starts[lines[-1]]
        text = region[: starts[lines[-1]]]  # the longest prefix tells about every shorter one
        found = (frontend_math(text), math_scan(text, _code(region, tokens)))
        scans = [_within_hold(scan, len(region)) for scan in found]
        for line in reversed(lines):
            if not any(scan.splits(starts[line]) for scan in scans):
                return line, starts[line]
        return 0, 0

    def _make_part(
        self, source: str, probe: _Probe, boundary: int | None, tokens: list[Token]
    ) -> Part:
        def inside(line: int) -> bool:
            return boundary is None or line < boundary

        def defined_here(ref: dict[str, Any]) -> bool:
            where = ref.get("map")
            return where is not None and inside(where[0])

        self.revised = self.revised or any(
            label in self._missed for label, ref in probe.items() if defined_here(ref)
        )
        self._missed.update(label for line, label, hit in probe.lookups if not hit and inside(line))
        used = dict.fromkeys(label for line, label, hit in probe.lookups if hit and inside(line))
        needed = [label for label in used if not defined_here(probe[label])]
        for label, ref in probe.items():
            if label not in self._known and defined_here(ref):
                self._known[label] = {"href": ref["href"], "title": ref["title"]}
        prefix = "".join(_definition(label, probe[label]) + "\n" for label in needed)
        may_hold_math = self.math and ("$" in source or "\\" in source)
        # ``tokens`` parse the region ``source`` starts: code past its end does no harm.
        shown = rewrite_math(source, _code(source, tokens)) if may_hold_math else source
        markdown = f"{prefix}\n{shown}" if prefix else shown
        return Part(source, self._neutralize(markdown), prefixed=bool(prefix))

    def whole(self) -> str:
        """The Markdown of everything fed, as one part."""
        splitter = MarkdownSplitter(
            allow_html=self.allow_html, allow_remote_images=self.allow_remote_images, math=self.math
        )
        splitter.feed(self.text)
        part = splitter.advance(final=True)
        return "" if part is None else part.markdown

    def shown_as_fed(self, text: str) -> bool:
        """Whether ``text``, rendered on its own, would be shown exactly as fed: no safety
        escape and no math rewrite would change it."""
        shown = rewrite_math(text) if self.math else text
        return shown == text and self._neutralize(text) == text

    def preview(self) -> str:
        """How the open tail should look right now (see :func:`preview`)."""
        return self._neutralize(preview(self.tail))

    def _neutralize(self, markdown: str) -> str:
        return neutralize(
            markdown, allow_html=self.allow_html, allow_remote_images=self.allow_remote_images
        )


def _within_hold(scan: MathScan, end: int) -> MathScan:
    """``scan`` with an opener forgotten once it has been open for :data:`HOLD_LIMIT`."""
    if scan.open_at is not None and end - scan.open_at > HOLD_LIMIT:
        return MathScan(scan.spans, None)
    return scan


def _held_lines(region: str, starts: list[int], tokens: list[Token]) -> Callable[[int], bool]:
    """Whether a cut at a line would split an HTML element that spans blocks (top-level HTML
    blocks only: a cut never falls inside a list item or a quote anyway)."""
    if "<" not in region:
        return lambda line: False
    blocks = [
        (t.map[0], t.content)
        for t in tokens
        if t.type == "html_block" and t.level == 0 and t.map is not None
    ]
    limit = len(region) - HOLD_LIMIT
    spans = [
        (start, len(region) if end is None else end)  # len(region): past the last line
        for start, end in element_spans(blocks)
        if end is not None or starts[start] >= limit
    ]
    return lambda line: any(start < line <= end for start, end in spans)


def _code(markdown: str, tokens: list[Token] | None = None) -> list[tuple[int, int]]:
    """Where ``markdown`` is code for any reader: code blocks as markdown-it finds them (at
    any depth; ``tokens``: its parse, if at hand), what JupyterLab hides from its math, and
    plain code spans."""
    ranges = frontend_code(markdown) + code_ranges(markdown)
    if "```" in markdown or "~~~" in markdown or "    " in markdown or "\t" in markdown:
        starts = [0, *(m.end() for m in _NEWLINE.finditer(markdown)), len(markdown)]
        last = len(starts) - 1
        for token in parser().parse(markdown) if tokens is None else tokens:
            # ``tokens`` may parse a longer text: a block that starts past the end is not here.
            if token.type in ("fence", "code_block") and token.map and token.map[0] <= last:
                first, end = token.map
                ranges.append((starts[first], starts[min(end, last)]))
    return ranges


def split(chunks: list[str], *, advance_every: int = 1, math: bool = True) -> list[Part]:
    """The parts a stream of ``chunks`` ends up shown as (``advance`` after every few chunks):
    the parts it is cut into, or, when a definition came after a part that used its label,
    the whole as one part (a display shows it again)."""
    splitter = MarkdownSplitter(math=math)
    for index, chunk in enumerate(chunks, start=1):
        splitter.feed(chunk)
        if index % advance_every == 0:
            splitter.advance()
    splitter.advance(final=True)
    if splitter.revised:
        return [Part(splitter.text, splitter.whole())]
    return splitter.parts


# -- the open tail, made readable --------------------------------------------------------------

_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)")
_BACKTICKS = re.compile(r"`+")
_TILDES = re.compile(r"~{3,}")
_PIPE_ROW = re.compile(r" {0,3}\|")
_PARTIAL_DELIMITER = re.compile(r"[ \t]*\|?[ \t|:-]*")


def _scan_fences(tail: str) -> tuple[str | None, int]:
    """The code fence ``tail`` leaves open (if any), and where its last paragraph starts."""
    fence: str | None = None
    paragraph_start = 0
    offset = 0
    for line in tail.splitlines(keepends=True):
        match = _FENCE_LINE.match(line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and match and match.group(1)[0] == fence[0]:
            if len(match.group(1)) >= len(fence) and not line.strip().strip(fence[0]):
                fence = None
                paragraph_start = offset + len(line)
        elif fence is None and not line.strip():
            paragraph_start = offset + len(line)
        offset += len(line)
    return fence, paragraph_start


def open_fence(tail: str) -> str | None:
    """The code fence (its backticks or tildes) that ``tail`` opens and does not close."""
    return _scan_fences(tail)[0]


def preview(tail: str) -> str:
    """``tail`` made readable while it is still arriving: an unclosed code fence, code span
    or ``**`` closed, display math not closed yet shown as a code block (not as raw TeX), and
    a table's header row held back until its delimiter row makes it a table.

    The final rendering never goes through here: it is only what a reader sees while the
    answer is still arriving.
    """
    fence, paragraph_start = _scan_fences(tail)
    if fence is not None:
        return tail + ("" if tail.endswith("\n") else "\n") + fence
    opened = open_display_math(tail)
    if opened is not None:
        before = preview(tail[:opened])
        newline = "\n" if before and not before.endswith("\n") else ""
        if "]:" in before[before.rfind("\n", 0, len(before) - 1) + 1 :]:
            newline += "\n"  # a definition's label takes the next line for its address
        return before + newline + _code_block(tail[opened:])
    head = table_head(tail)
    if head is not None:
        return preview(tail[:head])
    paragraph = _CODE_SPAN.sub("", tail[paragraph_start:])
    ticks = _BACKTICKS.search(paragraph)
    if ticks:
        return tail + ticks.group()
    if paragraph.count("**") % 2:
        return tail.rstrip(" ") + "**"
    return tail


def _code_block(text: str, info: str = "latex") -> str:
    """``text`` as a fenced code block that no line of it can close."""
    fence = "~" * max([3, *(len(run) + 1 for run in _TILDES.findall(text))])
    return f"{fence}{info}\n{text}{'' if text.endswith(chr(10)) else chr(10)}{fence}\n"


def table_head(tail: str) -> int | None:
    """Where a row that may be a table's header starts, if its delimiter row is not complete
    yet: shown now, it would be a paragraph that turns into a table a moment later."""
    lines = tail.rsplit("\n", 3)  # the last three lines are all it reads: O(line), not O(tail)
    head = len(lines) - 1
    if head >= 1 and _PARTIAL_DELIMITER.fullmatch(lines[head]) and _PIPE_ROW.match(lines[head - 1]):
        head -= 1  # the row above a delimiter row still being written
    elif not _PIPE_ROW.match(lines[head]):
        return None
    if head >= 1 and _PIPE_ROW.match(lines[head - 1]):
        return None  # a body row: the table is already one
    return len(tail) - len("\n".join(lines[head:]))


# -- safety rewrites ----------------------------------------------------------------------------


def _is_remote(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.netloc) or parts.scheme.lower() not in _NOT_REMOTE_SCHEMES


def _unsafe_lines(
    tokens: list[Token], allow_html: bool, allow_remote_images: bool
) -> tuple[set[int], set[int]]:
    """Line numbers holding raw HTML, and those holding remote images."""
    html: set[int] = set()
    images: set[int] = set()
    for token in tokens:
        if token.map is None:
            continue
        lines = range(token.map[0], token.map[1])
        if token.type == "html_block" and not allow_html and not is_harmless_html(token.content):
            html.update(lines)
        for child in token.children or ():
            if child.type == "html_inline" and not allow_html:
                if not is_harmless_html(child.content):
                    html.update(lines)
            elif (
                child.type == "image"
                and not allow_remote_images
                and _is_remote(str(child.attrs.get("src", "")))
            ):
                images.update(lines)
    return html, images


def _escape_before(
    line: str,
    pattern: re.Pattern[str],
    offset: int = 0,
    keep: Sequence[tuple[int, int]] = (),
    instead: str | None = None,
) -> str:
    """A backslash before each match of ``pattern`` (or the match replaced by ``instead``)
    that is not already escaped nor inside a range of ``keep`` (offsets in the whole text;
    the line starts at ``offset``)."""

    def escape(match: re.Match[str]) -> str:
        at = offset + match.start()
        if any(start <= at < end for start, end in keep):
            return match.group()
        backslashes = len(line[: match.start()]) - len(line[: match.start()].rstrip("\\"))
        if backslashes % 2:
            return match.group()
        return "\\" + match.group() if instead is None else instead

    return pattern.sub(escape, line)


_ANGLE = re.compile(r"<")
_IMAGE_BANG = re.compile(r"!(?=\[)")


def neutralize(
    markdown: str, *, allow_html: bool = False, allow_remote_images: bool = False
) -> str:
    """``markdown`` rewritten so that raw HTML shows as text, remote images as links, and no
    link runs script (:func:`.safety.escape_unsafe`, on the text itself); then, where the
    parser still finds raw HTML or a remote image outside math, a backslash goes before its
    ``<`` or ``!`` and the result is parsed again until it finds none. Harmless Markdown, code,
    math and a few harmless tags (``<br>``, ``<kbd>``, ...) are returned unchanged. Should a
    backslash reach nothing the parser still reads as unsafe, the text is shown as a code
    block: never raw, and never an exception in the middle of a display.
    """
    # First on the text itself, so that no parser's leniency lets anything through; then
    # checked with the parser, escaping whatever it still reads as HTML or a remote image.
    # Math is left alone: the frontend takes it out before parsing Markdown (and escapes its
    # "<" itself), and a backslash in it would break the TeX.
    may_escape = any(c in markdown for c in "<!]")
    holds_math = may_escape and ("$" in markdown or "\\" in markdown)
    math = frontend_math(markdown).spans if holds_math else ()
    given = markdown
    markdown = escape_unsafe(
        markdown, html=not allow_html, images=not allow_remote_images, keep=math
    )
    if (allow_html or "<" not in markdown) and (allow_remote_images or "![" not in markdown):
        return markdown  # nothing that could be raw HTML or an image: no parse needed
    for _ in range(markdown.count("<") + markdown.count("![") + 1):
        math = frontend_math(markdown).spans if math else ()
        # The parser reads the text as the frontend does: with the math taken out.
        tokens = parser().parse(_masked(markdown, math))
        html, images = _unsafe_lines(tokens, allow_html, allow_remote_images)
        if not html and not images:
            return markdown
        escaped = _escape_lines(markdown, html, images, math)
        if escaped == markdown:
            break  # no backslash reaches what the parser reads as unsafe
        markdown = escaped
    return _code_block(given, info="")


_NOT_LINE_BREAK = re.compile(r"[^\r\n]")


def _masked(markdown: str, spans: Sequence[tuple[int, int]]) -> str:
    """``markdown`` with each math span's characters replaced by ``@`` (line breaks kept, so
    lines keep their numbers): what the frontend's Markdown parser reads, math taken out."""
    if not spans:
        return markdown
    out, last = [], 0
    for start, end in spans:
        out.append(markdown[last:start] + _NOT_LINE_BREAK.sub("@", markdown[start:end]))
        last = end
    return "".join(out) + markdown[last:]


def _escape_lines(
    markdown: str, html: set[int], images: set[int], math: Sequence[tuple[int, int]]
) -> str:
    """``markdown`` with a backslash before each ``<`` on the lines ``html`` and each image's
    ``!`` on the lines ``images``, outside math."""
    lines = _NEWLINE.split(markdown)
    ends = [*_NEWLINE.findall(markdown), ""]
    starts = [0]
    for line, end in zip(lines, ends, strict=True):
        starts.append(starts[-1] + len(line) + len(end))
    for number in html:
        # "&lt;": a backslash would not hold in a web address (marked's takes it along).
        lines[number] = _escape_before(lines[number], _ANGLE, starts[number], math, "&lt;")
    for number in images:
        lines[number] = _escape_before(lines[number], _IMAGE_BANG, starts[number], math)
    return "".join(line + end for line, end in zip(lines, ends, strict=True))
