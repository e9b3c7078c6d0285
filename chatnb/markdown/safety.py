"""Safe mode on the text itself: what could run script or fetch a URL, escaped before any parser
reads it.

A model's answer is untrusted, and the frontend that renders it (JupyterLab: marked) is not the
parser chatnb splits with (markdown-it): wherever the two read a text differently, a rewrite
decided on markdown-it's reading lets marked's through (a fence closed by three backticks and a
tilde, nesting past markdown-it's limit, odd whitespace in a reference label, a control
character in a URL). So this pass decides on the characters, outside plain code, no parser:

- every ``<`` that could open a tag, a comment, a declaration or a non-web autolink gets a
  backslash (or becomes ``&lt;`` where a backslash would not hold: in a web address, or
  where marked may read an HTML block), except a few harmless tags written bare (``<br>``,
  ``<kbd>``, ``<sub>``, ``<sup>``, ``<b>``, ``<i>``, ``<em>``, ``<strong>``, ``<details>``,
  ``<summary>``);
- every ``![`` gets a backslash, except an inline image whose address is plainly local (a relative
  path, ``data:image/``, ``attachment:``);
- every link whose address would run script (``javascript:``, ``vbscript:``, a non-image
  ``data:``; however written: entities, case, whitespace, an autolink) becomes text.

Plain code, left alone, is what every parser takes for code: fenced blocks at the top level up
to the first line that any parser could take for their end, and code spans that do not cross
a blank line.

A short untrusted string that chatnb places *inside* its own Markdown or HTML (a tool's name
in a block's title, a variant's name in a table cell, a prompt as a grid's label) is not
Markdown to keep: :func:`escape_text` makes it plain text wherever it lands.
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from collections.abc import Callable, Sequence

__all__ = [
    "HARMLESS_TAGS",
    "code_ranges",
    "escape_text",
    "escape_unsafe",
    "is_harmless_html",
    "open_code_block",
]

#: Tags shown as themselves in safe mode, when written bare (no attributes).
HARMLESS_TAGS = frozenset(
    {"br", "kbd", "sub", "sup", "b", "i", "em", "strong", "details", "summary", "hr", "p"}
)

# A fence opener as every parser takes it: a backtick fence's info string has no backtick
# (with one, the line is a paragraph, and what follows is not code).
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}(?=[^`\n]*$)|~{3,})", re.M)
# A code span that does not cross a blank line (no parser lets one do that).
_SPAN = re.compile(r"(?<![`\\])(`+)(?!`)(?:(?!\n[ \t]*\n)[\s\S])*?(?<!`)\1(?!`)")
# What could make a frontend run script or fetch: a tag's "<", an image's "![", a link's
# address (after "](", a definition's "]:" (anywhere: in a quote or a list item too, with a
# label over several lines), or an autolink's "<"). A definition's label is looked ahead at,
# not taken: a "<" in it is checked on its own too.
_UNSAFE = re.compile(
    r"(?P<tag><(?=[A-Za-z][A-Za-z0-9-]*(?:[\s/>]|$)|/[A-Za-z]|!|\?))"
    r"|(?P<image>!\[)"
    r"|(?P<link>\]\(\s*|\[(?=[^\]]{0,999}\]:\s*(?P<address>))|<)",
    re.M,
)
_BARE_TAG = re.compile(r"</?([A-Za-z]+)\s*/?>")
_WEB_AUTOLINK = re.compile(r"<(?:https?|mailto):[^\s<>]*>", re.I)
_INLINE_IMAGE = re.compile(r"!\[[^\]\n]*\]\(\s*(<[^>\n]*>|[^\s)]*)")
_LOCAL_ADDRESS = re.compile(
    r"(?:data:image/|attachment:)\S*|(?![a-z][a-z0-9+.\-]*:)(?!//)[\w.~/%\-]+", re.I
)
_SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")
# Whitespace as JavaScript's \s reads it too (marked trims a link's address with it: U+FEFF).
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f\s\ufeff]+")
_ESCAPED_PUNCTUATION = re.compile(r"\\([!-/:-@\[-`{-~])")


def _fenced(markdown: str) -> list[tuple[int, int]]:
    """The bodies of fenced code blocks at the top level, each up to the first line that any
    parser could take for its end (or to the end of the text, when none closes it)."""
    ranges: list[tuple[int, int]] = []
    at = 0
    while (opening := _FENCE_OPEN.search(markdown, at)) is not None:
        fence = opening.group(1)
        # A lenient parser (marked) closes on a fence of the same kind with anything after it.
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{3,}}", re.M)
        body_start = markdown.find("\n", opening.end())
        if body_start < 0:
            break
        end = closing.search(markdown, body_start + 1)
        stop = end.start() if end else len(markdown)
        ranges.append((body_start, stop))
        at = end.end() if end else len(markdown)
    return ranges


def open_code_block(markdown: str) -> int | None:
    """Where the body of a fenced code block starts that ``markdown`` leaves open (as every
    parser reads it: plainly code up to the end), if any."""
    fenced = _fenced(markdown)
    return fenced[-1][0] if fenced and fenced[-1][1] == len(markdown) else None


def code_ranges(markdown: str) -> list[tuple[int, int]]:
    """Where ``markdown`` is plainly code: fenced blocks at the top level, up to the first line
    that any parser could take for their end, and code spans within a paragraph."""
    ranges = _fenced(markdown)
    bounds = [0, *(edge for fenced in ranges for edge in fenced), len(markdown)]
    may_be_fences = _fence_lines(markdown)
    for a, b in zip(bounds[::2], bounds[1::2], strict=True):  # between the fenced blocks
        ranges += [
            (a + start, a + end)
            for start, end in _plain_spans(markdown[a:b])
            if not may_be_fences(a + start, a + end)
        ]
    return sorted(ranges)


# GFM's bare web address as marked reads it (its `url` rule): from "http://", "https://",
# "ftp://" (any case) or "www." on to whitespace (JavaScript's \s), swallowing every backslash
# and backtick on the way. marked also stops it at a "<", but not at the "&lt;" written for
# one here, so a run goes on past "<".
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_WEB_ADDRESS = re.compile(rf"(?i:(?:https?|ftp)://|www\.)[A-Za-z0-9-][^{_JS_SPACE}]*")
# What swallows a backtick in marked: a web address, or a "~" (its text rule takes a run of
# tildes and backticks as plain text).
_SWALLOWS_BACKTICK = re.compile(rf"{_WEB_ADDRESS.pattern}|~(?=`)")
_BLANK_LINE = re.compile(r"\n(?:[ \t]*\n)+")  # with the blank lines after it


def _plain_spans(text: str) -> list[tuple[int, int]]:
    """The code spans of ``text`` that are code for marked too. Where marked swallows a
    backtick outside code (:data:`_SWALLOWS_BACKTICK`), it may pair the backticks after it
    otherwise, up to the end of the paragraph: no span there is plainly code."""
    spans = [(m.start(), m.end()) for m in _SPAN.finditer(text)]
    if not spans:
        return spans
    broken: list[tuple[int, int]] = []  # from a swallowed backtick to the paragraph's end
    index = 0
    for swallower in _SWALLOWS_BACKTICK.finditer(text):
        tick = text.find("`", swallower.start(), swallower.end() + 1)
        if tick < 0 or (broken and tick < broken[-1][1]):
            continue
        while index < len(spans) and spans[index][1] <= swallower.start():
            index += 1
        if index < len(spans) and spans[index][0] <= swallower.start():
            continue  # inside a code span: code, not a swallower
        end = _BLANK_LINE.search(text, tick)
        broken.append((tick, end.start() if end else len(text)))
    if broken:
        starts = [start for start, _ in broken]
        spans = [
            (start, end)
            for start, end in spans
            if (at := bisect.bisect_right(starts, start) - 1) < 0 or start >= broken[at][1]
        ]
    return _read_alike(text, spans)


# A line inside a code span that marked may read as a new block where CommonMark does not (a
# list item of any kind ends one, a heading, a quote, HTML, a table's or a heading's line).
_BLOCK_START = re.compile(r"\n[ \t]*(?:[-+*#<>=_:|~]|\d{1,9}[.)])")
# A line that marked may read as the start of an HTML block, where code spans are not parsed:
# a harmless block-level tag (the others are escaped), or a tag alone on its line; after the
# markers of quotes and list items, as marked takes lazy lines into a list item's HTML block.
_CONTAINERS = r"(?:[ \t>]|(?:[-+*]|\d{1,9}[.)])(?=[ \t]|$))*"  # quote markers, bullets
_LINE_PREFIX = re.compile(_CONTAINERS)
_HTML_BLOCK_LINE = re.compile(
    rf"^{_CONTAINERS}"
    r"(?:</?(?:details|summary|p|hr)(?![\w-])|</?[A-Za-z][\w-]*\s*/?>[ \t]*$)",
    re.M | re.I,
)
# marked hides these from its emphasis before pairing `*` and `_` (its `blockSkip`): links,
# code spans with no backtick inside, anything from "<" to ">"; escaped punctuation first.
_MARKED_SKIP = re.compile(
    r"\[(?:[^\[\]`]|(?P<a>`+)[^`]+(?P=a)(?!`))*?\]\((?:\\[\s\S]|[^\\()]|\((?:\\[\s\S]|[^\\()])*\))*\)"
    r"|(?<!`)(?P<b>`+)[^`]+(?P=b)(?!`)"
    r"|<(?! )[^<>]*?>"
)
_ESCAPE = re.compile(r"\\([\s\S])")
_LINE_MARKERS = re.compile(r"^[ \t>]*", re.M)


def _read_alike(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The code spans that marked reads as code too. marked lexes a paragraph from left to
    right, and a strikethrough, an emphasis or a link that starts before a code span may take
    its backticks (CommonMark gives the code span precedence), and its blocks may end where
    CommonMark's go on (a list item at any bullet): where that may happen, the span is not
    plainly code, nor is any after it in its paragraph (marked may pair those backticks
    otherwise). Each paragraph is read once: the cost stays linear."""
    kept: list[tuple[int, int]] = []
    blank_ends = [m.end() for m in _BLANK_LINE.finditer(text)]
    paragraph: _Paragraph | None = None
    broken_until = -1
    for start, end in spans:
        if start < broken_until:
            continue
        first = blank_ends[at - 1] if (at := bisect.bisect_right(blank_ends, start)) else 0
        if paragraph is None or paragraph.first != first:
            paragraph = _Paragraph(text, first, blank_ends[at] if at < len(blank_ends) else None)
        if paragraph.may_differ(start, end, kept):
            broken_until = paragraph.last
        else:
            kept.append((start, end))
    return kept


# A paragraph longer than this is not looked into for emphasis that a code span may close:
# its spans holding a "*" or "_" are not plainly code (marked's hiding is quadratic to model).
_EMPHASIS_WINDOW = 8000


class _Paragraph:
    """What marked may do to the code spans of one paragraph (from ``first`` to ``last``),
    each question answered without reading the paragraph again."""

    def __init__(self, text: str, first: int, last: int | None) -> None:
        self.text, self.first = text, first
        self.last = len(text) if last is None else last
        # Where each character that opens a strikethrough, a link or an emphasis first occurs.
        self._opener = {c: text.find(c, first, self.last) for c in "~[*_"}
        html = _HTML_BLOCK_LINE.search(text, first, self.last)
        self._html_at = html.start() if html else self.last  # marked's HTML block, maybe
        line_end = text.find("\n", first, self.last)
        first_line = text[first : self.last if line_end < 0 else line_end]
        content = _LINE_PREFIX.match(first_line)  # where a list item's or a quote's text starts
        self._indent = content.end() if content else 0
        self._lazy_at = self.last  # the first line indented less than the first line's text
        for line in _LINE.finditer(text, first, self.last):
            if line.start() > first and len(line.group(1)) < self._indent:
                self._lazy_at = line.start()
                break
        self._hidden: set[tuple[int, int]] | None = None

    def may_differ(self, start: int, end: int, kept: list[tuple[int, int]]) -> bool:
        """Whether marked may read the code span from ``start`` to ``end`` otherwise."""
        text = self.text
        ticks = len(text[start:end]) - len(text[start:end].lstrip("`"))
        inside = text[start + ticks : end - ticks]
        if "\n" in inside and (self._lazy_at < end or _block_start(text, start, end)):
            return True
        if self._html_at <= start:
            return True  # in an HTML block, for marked
        before = {c: -1 < at < start for c, at in self._opener.items()}
        if "~" in inside and before["~"]:  # a strikethrough closes at the first "~" it meets
            return True
        if ("]" in inside or ")" in inside) and before["["]:  # a link's text or address
            return True
        if not any(c in inside and before[c] for c in "*_"):
            return False
        if self.last - self.first > _EMPHASIS_WINDOW:
            return True
        if self._hidden is None:
            self._hidden = _marked_hidden(text[self.first : self.last])
        hidden = (start - self.first, end - self.first) in self._hidden
        return not (hidden and _alone(text, (self.first, self.last), (start, end), kept))


_LINE = re.compile(r"^([ \t]*)", re.M)
_HEADING_LINE = re.compile(rf"{_CONTAINERS}#{{1,6}}(?:[ \t]|$)", re.M)


def _block_start(text: str, start: int, end: int) -> bool:
    """Whether a line inside the code span from ``start`` to ``end`` could start a block. A
    fence indented past what makes a fence at the top level (one in a list item, from its
    first line) is code for every parser, as a fenced block or as an indented one."""
    opening = text.rfind("\n", 0, start) + 1
    if _HEADING_LINE.match(text, opening):
        return True  # a heading is one line
    fence = text[start:end].startswith("```") and not text[opening:start].strip(" \t>")
    return not fence and _BLOCK_START.search(text, start, end) is not None


def _alone(
    text: str, paragraph: tuple[int, int], span: tuple[int, int], kept: list[tuple[int, int]]
) -> bool:
    """Whether marked hides the code span ``span`` from its emphasis whole, however its
    paragraph starts (after a list item's bullet, a quote's marker), when it hides it in the
    whole paragraph: on one line, with no backtick or backslash inside, and nothing before it
    that could hide it otherwise (an open "<", an open link, a backtick run that could pair
    with its own)."""
    (first, last), (start, end) = paragraph, span
    ticks = len(text[start:end]) - len(text[start:end].lstrip("`"))
    inside, before = text[start + ticks : end - ticks], text[first:start]
    if "\n" in inside or "`" in inside or "\\" in inside:
        return False
    if (opened := before.rfind("<")) >= 0 and ">" not in _LINE_MARKERS.sub("", before[opened:]):
        return False
    if "[" in before:
        address = before.rfind("](")
        rest = before[address + 2 :]
        if "](" in text[start:last] or (address >= 0 and rest.count(")") <= rest.count("(")):
            return False
    if (tick := before.rfind("`")) < 0:
        return True
    run = tick + 1 - len(before[: tick + 1].rstrip("`"))
    closes_kept = bool(kept) and kept[-1][1] == first + tick + 1
    return run != ticks or (closes_kept and "\n" not in text[kept[-1][0] : kept[-1][1]])


def _marked_hidden(paragraph: str) -> set[tuple[int, int]]:
    """What marked hides from emphasis in ``paragraph``: escaped punctuation, then each match
    of :data:`_MARKED_SKIP` from left to right, as marked does. (marked overwrites each match
    before looking on; that changes no later match, as none can start right after a closing
    backtick run.)"""
    masked = _ESCAPE.sub(lambda m: "++" if _punctuation(m.group(1)) else m.group(), paragraph)
    return {found.span() for found in _MARKED_SKIP.finditer(masked)}


def _punctuation(char: str) -> bool:
    return unicodedata.category(char)[0] in "PS"


_FENCE_LIKE = re.compile(r"^ {0,3}(?:`{3,}|~{3,})", re.M)


def _fence_lines(markdown: str) -> Callable[[int, int], bool]:
    """Whether a backtick run that looks like a code span (from ``start`` to ``end``) touches a
    line that some parser could take for a fence (then it is not plainly a code span). Each
    question costs a bisection, not a scan of the line."""
    starts, line_ends = [], []
    for line in _FENCE_LIKE.finditer(markdown):
        starts.append(line.start())
        line_ends.append(len(markdown) if (e := markdown.find("\n", line.end())) < 0 else e)

    def touches(start: int, end: int) -> bool:
        index = bisect.bisect_left(starts, end) - 1  # the last fence-like line before the end
        return index >= 0 and line_ends[index] >= start

    return touches


def _address(text: str) -> str:
    """An address as a browser ends up reading it: escapes and entities resolved, whitespace
    and control characters gone, lower case."""
    text = _ESCAPED_PUNCTUATION.sub(r"\1", html.unescape(text[:300]))
    return _CONTROL_OR_SPACE.sub("", text).lower().lstrip("<").rstrip(">")


def _runs_code(address: str) -> bool:
    url = _address(address)
    return url.startswith(_SCRIPT_SCHEMES) and not url.startswith("data:image/")


def _harmless(markdown: str, at: int) -> bool:
    """A bare harmless tag, or a web autolink, starts at ``at``."""
    tag = _BARE_TAG.match(markdown, at)
    if tag is not None and tag.group(1).lower() in HARMLESS_TAGS:
        return True
    return _WEB_AUTOLINK.match(markdown, at) is not None


_ANY_TAG = re.compile(r"<[^<>]*>?")


def is_harmless_html(html_: str) -> bool:
    """Whether raw HTML holds nothing but bare harmless tags (and text)."""
    return all(
        (tag := _BARE_TAG.fullmatch(found.group())) is not None
        and tag.group(1).lower() in HARMLESS_TAGS
        for found in _ANY_TAG.finditer(html_)
    )


def _local_image(markdown: str, at: int) -> bool:
    image = _INLINE_IMAGE.match(markdown, at)
    if image is None:
        return False
    return _LOCAL_ADDRESS.fullmatch(_address(image.group(1))) is not None


def _needs_escape(markdown: str, match: re.Match[str], html_: bool, images: bool) -> int | None:
    """Where a backslash goes for this match, if anywhere."""
    kind, at = match.lastgroup, match.start()
    if kind == "tag":
        return at if html_ and not _harmless(markdown, at) else None
    if kind == "image":
        return at if images and not _local_image(markdown, at) else None
    address = match.end() if match.start("address") < 0 else match.start("address")
    if not html_ or not _runs_code(markdown[address : address + 300]):
        return None
    text = match.group()
    return at + text.index("(" if "(" in text else ("[" if "[" in text else "<"))


def escape_unsafe(
    markdown: str,
    *,
    html: bool = True,
    images: bool = True,
    keep: Sequence[tuple[int, int]] = (),
) -> str:
    """``markdown`` with a backslash before whatever could run script or fetch a URL, outside
    plain code and the ranges ``keep`` (math, which the frontend takes out before Markdown is
    parsed): tags and script links when ``html``, images that are not plainly local when
    ``images``. Where a backslash would not hold (in a web address, or where marked may read
    an HTML block), a tag's ``<`` becomes ``&lt;``. Harmless text is returned unchanged (and
    cheaply)."""
    if not (html or images) or not any(c in markdown for c in "<!]"):
        return markdown
    # Code as the frontend's parser finds it: with the math taken out (which may join a
    # fence's line to the next, so that it is no fence).
    code = _Later(lambda: [*code_ranges(_masked(markdown, keep)), *keep])
    entity = _Later(lambda: _entity_needed(markdown, keep))
    blocks = _Later(lambda: _html_block_ranges(markdown))
    out, last = [], 0
    for match in _UNSAFE.finditer(markdown):
        spot, at = _needs_escape(markdown, match, html, images), match.start()
        if spot is None and html and _BROWSER_TAG.match(markdown, at):
            # In HTML, "<x!" opens a tag as well (Markdown's tag names are stricter).
            spot = at if not _harmless(markdown, at) and blocks.cover(at) else None
        if spot is None or code.cover(spot):
            continue  # nothing to escape, or code, which shows it as text anyway
        preceding = markdown[max(0, spot - 64) : spot]
        escaped = (len(preceding) - len(preceding.rstrip("\\"))) % 2 == 1
        if markdown[spot] == "<" and entity.cover(spot):
            # An escaped "<" too: its backslash would be shown.
            out.append(markdown[last : spot - escaped] + "&lt;")
            last = spot + 1
        elif not escaped:
            out.append(markdown[last:spot] + "\\")
            last = spot
    return "".join(out) + markdown[last:]


def _entity_needed(markdown: str, math: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Where a backslash before "<" would not hold: in a web address (past its first
    character: the backslash would be the address's; read with the ``math`` taken out, as
    the frontend does, so an address runs on through it), and from a line that marked may
    read as the start of an HTML block to the next blank line (in HTML, a backslash is a
    backslash; marked takes a list item's lazy lines into its HTML block too)."""
    masked = _masked(markdown, math)
    ranges = [(m.start() + 1, m.end()) for m in _WEB_ADDRESS.finditer(masked)]
    return [*ranges, *_html_block_ranges(markdown)]


def _masked(markdown: str, math: Sequence[tuple[int, int]]) -> str:
    """``markdown`` with each range of ``math`` written over with "@", line breaks too: the
    characters the frontend's parser reads there (it takes math out as "@@0@@")."""
    if not math:
        return markdown
    pieces, last = [], 0
    for start, end in sorted(math):
        pieces += [markdown[last:start], "@" * max(end - max(start, last), 0)]
        last = max(last, end)
    return "".join(pieces) + markdown[last:]


_BROWSER_TAG = re.compile(r"<[A-Za-z/!?]")


def _html_block_ranges(markdown: str) -> list[tuple[int, int]]:
    """From each line that marked may read as the start of an HTML block to the next blank
    line (marked takes a list item's lazy lines into its HTML block)."""
    ranges = []
    for block in _HTML_BLOCK_LINE.finditer(markdown):
        blank = _BLANK_LINE.search(markdown, block.start())
        ranges.append((block.start(), blank.start() if blank else len(markdown)))
    return ranges


class _Later:
    """:class:`_Ranges` made the first time they are asked about (most texts never are)."""

    def __init__(self, make: Callable[[], Sequence[tuple[int, int]]]) -> None:
        self._make = make
        self._ranges: _Ranges | None = None

    def cover(self, at: int) -> bool:
        if self._ranges is None:
            self._ranges = _Ranges(self._make())
        return self._ranges.cover(at)


class _Ranges:
    """Whether positions, asked in increasing order, fall inside any of some ranges: linear
    in all, however many positions are asked about."""

    def __init__(self, ranges: Sequence[tuple[int, int]]) -> None:
        self._ranges = sorted(ranges)
        self._next = 0
        self._reach = -1  # the furthest end of the ranges that start at or before a position

    def cover(self, at: int) -> bool:
        while self._next < len(self._ranges) and self._ranges[self._next][0] <= at:
            self._reach = max(self._reach, self._ranges[self._next][1])
            self._next += 1
        return at < self._reach


# What a string placed inside a line of Markdown or in an HTML element's text could turn into
# structure: a tag or an entity (& < >), a link or an image ([ ] !), code (`), emphasis or
# strikethrough (* ~ and an "_" not inside a word), a backslash escape, a table cell's end (|),
# math ($), GFM's bare links (the ":" of "http://", the "." of "www.", an e-mail's "@"). Each
# becomes a numeric character reference: CommonMark, GFM and marked read one as that character
# and never as syntax, in a table cell too, and so does HTML inside a raw HTML block.
_LITERAL = re.compile(
    r"[&<>\[\]!`*~\\|$@]|(?<![^\W_])_|_(?![^\W_])|(?<=[A-Za-z]):(?=//)|(?i:(?<=www))\."
)
_WHITESPACE_RUN = re.compile(r"[\s\x00-\x1f\x7f]+")


def escape_text(text: str, limit: int | None = None) -> str:
    """``text`` as plain text wherever chatnb places it in its own Markdown or HTML: a title in
    ``<summary>``, a ``<code>`` element, a table cell, a widget's HTML. Every character that
    could start markup becomes a character reference (shown as itself, never read as syntax),
    and line breaks and control characters become one space (a line break would end a table
    row or a raw HTML block). ``limit``: characters kept at most, then "…".

    Harmless labels are returned unchanged: letters, digits, spaces and ``- _ . , : = ' " ( )``
    (an ``_`` inside a word starts no emphasis, so ``get_weather`` stays as it is). Not for an
    attribute's value, which chatnb never builds from untrusted text."""
    flat = _WHITESPACE_RUN.sub(" ", text) if not text.isprintable() or "\n" in text else text
    if limit is not None and len(flat) > limit:
        flat = flat[: max(limit - 1, 0)] + "…"
    return _LITERAL.sub(lambda found: f"&#{ord(found.group())};", flat)
