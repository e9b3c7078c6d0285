"""Where a Markdown answer holds math: as Jupyter's frontends find it, and as the model meant it.

JupyterLab (and Notebook 7, which shares its renderer) pulls math out of Markdown before
marked parses it (``removeMath`` in ``@jupyterlab/rendermime``): the text is split at ``$``,
``$$``, ``\\begin{..}``/``\\end{..}``, ``\\\\(``/``\\\\[`` (two backslashes), braces and line
breaks; an opener pairs with the next matching closer unless a blank line comes first, and a
``$`` inside a code span or at the top of a fenced block is no delimiter. :func:`frontend_math`
models that, position for position, so that the splitter never cuts a text where the frontend
would pair math across the cut.

What the model meant differs from that in three ways, and :func:`rewrite_math` (the display
rewrite, on by default) bridges them; the stored answer stays as the model sent it:

- ``\\[ .. \\]`` and ``\\( .. \\)`` (GPT models' favourite delimiters) are math, but marked
  reads them as escaped brackets: they become ``$$ .. $$`` and ``$ .. $``.
- Display math may hold blank lines (``aligned`` rows, say), which end math for the frontend:
  they are removed inside display math.
- A ``$`` is math only by pandoc's rule (an opening ``$`` has a non-space right after it, a
  closing one a non-space right before it and no digit right after it); any other ``$`` is
  currency and is escaped (``$5 to $10`` stays text).

Nothing inside code (fenced or indented blocks, code spans) is ever touched.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

__all__ = ["MathScan", "frontend_math", "math_scan", "open_display_math", "rewrite_math"]

# JupyterLab's own split (rendermime's MATHSPLIT): delimiters, escaped braces and dollars,
# braces, runs of line breaks, its placeholders, and two-backslash \\( \\) \\[ \\].
# JavaScript's \s and "." (Python's differ: \x1c-\x1f are space to Python, \u2028 is "."):
# the frontend's regexes, ported, must match exactly what they match there.
_JS_SPACE = "[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
_JS_DOT = "[^\n\r\u2028\u2029]"
_FRONTEND_SPLIT = re.compile(
    rf"(\$\$?|\\(?:begin|end)\{{[a-z]*\*?\}}|\\[{{}}$]|[{{}}]|(?:\n{_JS_SPACE}*)+|@@\d+@@"
    r"|\\\\(?:\(|\)|\[|\]))",
    re.I,
)
# Where JupyterLab hides "$" from the split: fenced blocks from a fence at the start of a line
# to the same fence, and one-line code spans.
_FRONTEND_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^`\n]*\n[\s\S]*?^(?P=fence)`*$", re.M)
_FRONTEND_SPAN = re.compile(r"(?:^|[^\\])(`+)(?:[^\n]*?[^`\n])\1(?!`)", re.M)
_BLANK = re.compile(f"\n{_JS_DOT}*\n")
# The delimiters as a model writes them (one or two backslashes before a bracket), escapes
# that are no delimiter, line breaks.
_MODEL_SPLIT = re.compile(
    r"(\\{1,2}[()\[\]]|\\\\|\\\$|\$\$|\$|\\(?:begin|end)\{[A-Za-z]*\*?\}|(?:\n[ \t]*)+)"
)
_BLANK_LINES = re.compile(r"\n[ \t]*(?=\n)")
_BARE_DOLLAR = re.compile(r"(?<!\\)\$")


@dataclass(frozen=True)
class MathScan:
    """Math spans (start, end) in a text, and where math opened that may still close."""

    spans: tuple[tuple[int, int], ...]
    #: An opener with no closer yet that more text could still close.
    open_at: int | None

    def splits(self, at: int) -> bool:
        """Whether cutting the text at ``at`` would cut through math (found or still open)."""
        if self.open_at is not None and self.open_at < at:
            return True
        i = bisect.bisect_left(self.spans, (at, at)) - 1
        return i >= 0 and self.spans[i][1] > at


class _Ranges:
    """Sorted, possibly overlapping ranges, asked whether they hold a position."""

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        self._starts, self._reach, reach = [], [], -1
        for start, end in sorted(ranges):
            reach = max(reach, end)
            self._starts.append(start)
            self._reach.append(reach)

    def __contains__(self, at: int) -> bool:
        i = bisect.bisect_right(self._starts, at) - 1
        return i >= 0 and self._reach[i] > at


def _normalized(text: str) -> str:
    # Same length, so positions stay: "\r\n" is a line break, a lone "\r" too.
    return text.replace("\r\n", " \n").replace("\r", "\n")


def _pieces(pattern: re.Pattern[str], text: str) -> list[tuple[int, str]]:
    """(offset, delimiter) for each delimiter of ``pattern`` in ``text``."""
    pieces, at = [], 0
    for number, piece in enumerate(pattern.split(text)):
        if number % 2:
            pieces.append((at, piece))
        at += len(piece)
    return pieces


def frontend_code(text: str) -> list[tuple[int, int]]:
    """Where JupyterLab hides ``$`` from its math split (fenced blocks, one-line spans)."""
    ranges = [m.span() for m in _FRONTEND_FENCE.finditer(text)]
    ranges += [m.span() for m in _FRONTEND_SPAN.finditer(text)]  # with the char before it
    return ranges


def frontend_math(text: str) -> MathScan:
    """The math JupyterLab extracts from ``text`` before Markdown is parsed (rendermime's
    ``removeMath``), as spans of ``text``; ``open_at`` where an opener waits for its closer."""
    text = _normalized(text)
    code = _Ranges(frontend_code(text))
    spans: list[tuple[int, int]] = []
    start: int | None = None
    closer, last, braces = "", None, 0  # last: a closer seen while braces were unbalanced
    for at, piece in _pieces(_FRONTEND_SPLIT, text):
        if piece[0] == "$" and at in code:
            continue
        if start is not None:
            if piece == closer:
                if braces:
                    last = at + len(piece)
                else:
                    spans.append((start, at + len(piece)))
                    start, last = None, None
            elif _BLANK.search(piece):
                if last is not None:
                    spans.append((start, last))
                start, last, braces = None, None, 0
            elif piece == "{":
                braces += 1
            elif piece == "}" and braces:
                braces -= 1
        elif piece in ("$", "$$"):
            start, closer, braces = at, piece, 0
        elif piece in ("\\\\(", "\\\\["):
            start, closer, braces = at, "\\\\" + (")" if piece[-1] == "(" else "]"), 0
        elif piece[1:6].lower() == "begin":
            start, closer, braces = at, "\\end" + piece[6:], 0
    if start is not None and last is not None:
        spans.append((start, last))  # where it ends unless more text closes it later
    return MathScan(tuple(spans), start)


@dataclass(frozen=True)
class _Math:
    start: int
    end: int
    opener: str
    closer: str
    display: bool


_CLOSERS = {"$$": "$$", "\\[": "\\]", "\\\\[": "\\\\]", "\\(": "\\)", "\\\\(": "\\\\)"}
_DISPLAY = frozenset({"$$", "\\[", "\\\\["})


class _ModelReading:
    """One left-to-right reading of a text's delimiters as the model meant them."""

    def __init__(self, text: str, code: list[tuple[int, int]]) -> None:
        self.text = text
        skip = _Ranges(code)
        self.pieces = [(at, p) for at, p in _pieces(_MODEL_SPLIT, text) if at not in skip]
        # For each piece, the index of the first blank line at or after it.
        self.next_blank = [len(self.pieces)] * (len(self.pieces) + 1)
        for i in range(len(self.pieces) - 1, -1, -1):
            blank = self.pieces[i][1][0] == "\n" and _BLANK.search(self.pieces[i][1])
            self.next_blank[i] = i if blank else self.next_blank[i + 1]
        self.dollars = [i for i, (_, p) in enumerate(self.pieces) if p == "$"]
        self.math: list[_Math] = []
        self.currency: list[int] = []
        self.open_at: int | None = None
        self.open_display: int | None = None  # the first display opener still open
        self._read()

    def _read(self) -> None:
        i = 0
        while i < len(self.pieces):
            piece = self.pieces[i][1]
            if piece == "$":
                i = self._inline_dollar(i)
            elif piece in _CLOSERS or piece.startswith("\\begin"):
                i = self._delimited(i)
            i += 1

    def _still_open(self, at: int) -> None:
        if self.open_at is None:
            self.open_at = at

    def _inline_dollar(self, i: int) -> int:
        """dollarmath's rule (pandoc's, for currency): a ``$`` opens unless a space follows
        or a digit precedes it; the next ``$`` closes unless a space precedes or a digit
        follows it, and then neither is math."""
        at, text = self.pieces[i][0], self.text
        if text[at + 1 : at + 2].isspace() or text[at - 1 : at].isdigit():
            self.currency.append(at)
            return i
        j = bisect.bisect_right(self.dollars, i)
        limit = self.next_blank[i]
        if j == len(self.dollars) or self.dollars[j] > limit:
            self.currency.append(at)
            if limit == len(self.pieces):  # no blank line yet: a closer may still come
                self._still_open(at)
            return i
        end = self.pieces[self.dollars[j]][0]
        closes = not text[end - 1].isspace() and not text[end + 1 : end + 2].isdigit()
        if closes and text[at + 1 : end].strip():
            self.math.append(_Math(at, end + 1, "$", "$", False))
            return self.dollars[j]
        self.currency.append(at)
        return i

    def _delimited(self, i: int) -> int:
        at, piece = self.pieces[i]
        closer = "\\end" + piece[6:] if piece.startswith("\\begin") else _CLOSERS[piece]
        display = piece in _DISPLAY or piece.startswith("\\begin")
        # Display math opened on a line of its own may hold blank lines; any other stops at a
        # blank line, as the frontend's does.
        line = self.text[self.text.rfind("\n", 0, at) + 1 : at]
        limit = len(self.pieces) if display and not line.strip() else self.next_blank[i]
        for j in range(i + 1, limit):
            if self.pieces[j][1] == closer:
                if not self.text[at + len(piece) : self.pieces[j][0]].strip():
                    return i  # "\(\)" holds no math: escaped brackets after all
                end = self.pieces[j][0] + len(closer)
                self.math.append(_Math(at, end, piece, closer, display))
                return j
        if limit == len(self.pieces):
            self._still_open(at)
            if display and self.open_display is None:
                self.open_display = at
        return i


def open_display_math(text: str) -> int | None:
    """Where display math opens in ``text`` that is not closed yet (outside code), if any."""
    if "$$" not in text and "\\" not in text:
        return None
    text = _normalized(text)
    return _ModelReading(text, frontend_code(text)).open_display


def math_scan(text: str, code: list[tuple[int, int]] | None = None) -> MathScan:
    """Math as :func:`rewrite_math` reads it (spans and an opener still open)."""
    text = _normalized(text)
    reading = _ModelReading(text, frontend_code(text) if code is None else code)
    return MathScan(tuple((m.start, m.end) for m in reading.math), reading.open_at)


def rewrite_math(markdown: str, code: list[tuple[int, int]] | None = None) -> str:
    """``markdown`` with its math written the way every Jupyter frontend renders it: ``\\[``
    and ``\\(`` delimiters as ``$$`` and ``$``, no blank lines inside display math, and
    currency ``$`` escaped. ``code``: ranges never touched (default: what JupyterLab takes
    for code)."""
    if "$" not in markdown and "\\" not in markdown:
        return markdown
    text = _normalized(markdown)
    reading = _ModelReading(text, frontend_code(text) if code is None else code)
    edits = [(at, at + 1, "\\$") for at in reading.currency]
    for math in reading.math:
        inner = markdown[math.start + len(math.opener) : math.end - len(math.closer)]
        # Inline, a "$" inside ("$a $b$") would close it early for the frontend.
        blank, dollar = _BLANK_LINES.sub, _BARE_DOLLAR.sub
        inner = blank("", inner) if math.display else dollar(r"\\$", inner)
        if math.opener.startswith("\\begin"):
            new = math.opener + inner + math.closer
        else:
            delimiter = "$$" if math.display else "$"
            new = delimiter + inner + delimiter
        edits.append((math.start, math.end, new))
    out, at = [], 0
    for start, end, new in sorted(edits):
        out += [markdown[at:start], new]
        at = end
    out.append(markdown[at:])
    return "".join(out)
