"""How much of an answer's open tail a browser may render as it is, while the answer streams.

The live widget (:mod:`chatnb.display.live_markdown`) renders finished parts as the splitter
made them, but the open tail as it arrived. That is only right where the splitter would show
the tail as fed: where safe mode escapes nothing and the math rewrite changes nothing
(:meth:`chatnb.markdown.MarkdownSplitter.shown_as_fed`); nor should display math that is not
closed yet be rendered as Markdown, nor a row that a delimiter row is about to turn into a
table. :class:`TailCheck` says where the tail stops being renderable; from there the browser
shows it as plain text, until the block is finished and cut off as a part.

Checking costs O(tail), so it is done only when the tail holds a character that could change
anything (``<``, ``!``, ``]``, ``$``, a backslash), at most every :data:`CHECK_INTERVAL_S` and
never for more than a tenth of the time; a tail found unsafe is checked again only once it
has grown by an eighth; and once a check finds the tail inside an open code block, what follows
is code (shown as fed) until a line that could close it arrives, so a long block costs only its
new text. Pure: the clock is the caller's.

:class:`GrowingBlock` says where the tail's last block starts and whether the browser may grow
it by its new lines (a table's rows, a code block's lines) instead of rendering it again whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .html_spans import element_spans
from .math_text import frontend_math, open_display_math
from .safety import open_code_block
from .splitter import parser, table_head

__all__ = ["CHECK_INTERVAL_S", "TRIGGERS", "GrowingBlock", "TailCheck"]

#: Characters without which the splitter shows any text as fed (safe mode and the math
#: rewrite act only around them).
TRIGGERS = "<!]$\\"
_TRIGGER = re.compile("[" + re.escape(TRIGGERS) + "]")
# A line that some parser could take for the end of a fenced code block.
_FENCE_LIKE = re.compile(r"\n {0,3}(?:`{3,}|~{3,})")
#: Fewest seconds between two checks of a tail that holds a trigger.
CHECK_INTERVAL_S = 0.25
#: A check may take at most this share of the time between checks.
CHECK_SHARE = 0.1


class TailCheck:
    """Where the open tail stops being renderable, kept up to date as it grows.

    ``shown_as_fed`` is the splitter's test; ``clock`` measures time and the checks' cost.
    Call :meth:`reset` when a part is cut off (the tail then starts anew).
    """

    def __init__(self, shown_as_fed: Callable[[str], bool], clock: Callable[[], float]) -> None:
        self._shown_as_fed, self._clock = shown_as_fed, clock
        self.checks = 0  # how many times a tail was checked (for tests and benchmarks)
        self.reset()

    def reset(self) -> None:
        self._scanned = 0  # the tail up to here was searched for triggers
        self._clean: int | None = None  # None: no trigger so far; else where the first is
        self._verified = 0  # the tail up to here is shown as fed
        self._failed = 0  # a check of this much failed: wait until it grows by an eighth
        self._math: int | None = None
        self._next = -float("inf")
        self._code = False  # the verified tail ends inside a code block that is still open

    def plain_from(self, tail: str) -> tuple[int | None, bool]:
        """Where ``tail`` (the whole open tail) starts to show as plain text (None: it is
        all renderable), and whether that plain text is display math still open."""
        if self._clean is None:
            found = _TRIGGER.search(tail, max(0, self._scanned))
            self._scanned = len(tail)
            if found is None:
                return self._with_table(tail, None), False
            self._clean = self._verified = found.start()
        if self._code and _FENCE_LIKE.search(tail, max(0, self._verified - 1)) is None:
            self._verified = len(tail)  # still code: shown as fed, nothing to check
        else:
            self._code = False
            self._check(tail)
        plain = None if self._verified >= len(tail) else self._verified
        if self._math is not None and (plain is None or self._math <= plain):
            return self._math, True
        return self._with_table(tail, plain), False

    def _check(self, tail: str) -> None:
        now = self._clock()
        grown = len(tail) >= self._failed + self._failed // 8 + 1
        if self._verified >= len(tail) or now < self._next or not grown:
            return
        self.checks += 1
        self._math = open_display_math(tail)
        if self._shown_as_fed(tail if self._math is None else tail[: self._math]):
            self._verified = len(tail) if self._math is None else self._math
            # Inside a code block now: what comes next is code too, shown as fed, until a
            # line that could close it (then checks resume). A long block costs O(new text).
            self._code = self._math is None and open_code_block(tail) is not None
        else:
            self._failed = len(tail)
        cost = self._clock() - now
        self._next = self._clock() + max(CHECK_INTERVAL_S, cost / CHECK_SHARE)

    @staticmethod
    def _with_table(tail: str, plain: int | None) -> int | None:
        head = table_head(tail)
        if head is None:
            return plain
        return head if plain is None else min(head, plain)


# -- the open block, grown line by line ----------------------------------------------------------

# A line that opens a fenced code block (a backtick fence's info string holds no backtick).
_FENCE_OPEN = re.compile(r" {0,3}(`{3,}(?=[^`]*$)|~{3,})")
# A line that closes a fenced code block for some parser (marked also takes ```~ for one);
# only a plain closing fence is known to close it for all, any other such line and nothing
# grows until the next cut.
_FENCE_CLOSE = re.compile(r" {0,3}(`{3,}|~{3,})[`~ \t]*")
_PIPE_LINE = re.compile(r" {0,3}\|")
_DELIMITER_ROW = re.compile(r" {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")
_MATH_OR_ESCAPE = re.compile(r"[$\\]")


class GrowingBlock:
    """Where the open tail's last block starts, and whether the browser may grow it line by
    line, kept up to date as the tail grows (O(new lines) per call).

    The tail before :attr:`head` is made of finished blocks (a block starts there, in every
    parser); the browser renders that once. From there, a ``table`` or a ``code`` block grows
    by complete lines: a GFM table row renders the same on its own under the table's head
    (its cells, aligned by the delimiter row), and a code line is the same text in its block.
    Each candidate block is confirmed once by markdown-it (top level, not inside a list, a
    quote or an HTML block); then each new complete line is read by a rule: a row, a code
    line, the block's end (a blank line, a closing fence), or a line the rules do not know,
    after which nothing grows until the next cut (:meth:`reset`).
    """

    def __init__(self) -> None:
        self.verified = 0  # how many candidates markdown-it was asked about
        self.reset()

    def reset(self) -> None:
        self._scanned = 0  # complete lines up to here were read
        self.head = 0  # the blocks before here are finished; one starts here
        self.kind: str | None = None  # "table" or "code": the block at ``head`` grows
        self.body = 0  # where its rows or lines start (after the delimiter row / the fence)
        self._fence = ""
        self._lost = False
        self._refused = 0  # the region's length at a candidate that was not one
        self._previous = (0, "")  # the last complete line read: where it starts, its text

    def find(self, tail: str, plain: int | None) -> tuple[int, str | None] | None:
        """Where the open block starts and its kind (None: it renders whole), or None when
        nothing before it is known to be finished. ``plain``: where the tail stops being
        renderable (a block that starts past it, or whose head is cut by it, does not grow)."""
        end = tail.rfind("\n") + 1
        while not self._lost and self._scanned < end:
            line_end = tail.index("\n", self._scanned) + 1
            self._read(tail, self._scanned, line_end)
            self._scanned = line_end
        if self._lost or (plain is not None and plain <= self.head):
            return None
        if self.kind is not None and (plain is None or plain >= self.body):
            return self.head, self.kind
        return (self.head, None) if self.head else None

    def _read(self, tail: str, start: int, end: int) -> None:
        line = tail[start : end - 1]
        if "\r" in line:
            self._lost = True  # markdown-it's other line ends: not worth a rule
        elif self.kind == "code":
            self._code_line(line, end)
        elif self.kind == "table":
            self._table_line(line, end)
        elif _FENCE_OPEN.match(line):
            self._candidate(tail, start, end, "code")
            self._fence = _FENCE_OPEN.match(line).group(1)  # type: ignore[union-attr]
        elif (
            _DELIMITER_ROW.fullmatch(line)
            and _PIPE_LINE.match(self._previous[1])
            and self._previous[0] >= self.head
        ):
            self._candidate(tail, self._previous[0], end, "table")
        self._previous = (start, line)

    def _code_line(self, line: str, end: int) -> None:
        closing = _FENCE_CLOSE.fullmatch(line)
        if closing is None or not closing.group(1).startswith(self._fence):
            return  # a line of code
        if not line.strip(" \t").strip(self._fence[0]):
            self.kind, self.head = None, end  # closed: the next line starts a block
        else:
            self._lost = True

    def _table_line(self, line: str, end: int) -> None:
        if not line.strip(" \t"):
            self.kind, self.head = None, end  # a blank line ends the table
        elif not _PIPE_LINE.match(line) or not _balanced(line):
            self._lost = True

    def _candidate(self, tail: str, start: int, end: int, kind: str) -> None:
        """Confirm with markdown-it that the block starting at ``start`` is a top-level
        ``kind`` and the last block so far (once per candidate: O(text since ``head``))."""
        # After a candidate that was not one (a fence in a list item), the next is looked at
        # only once the region has grown by an eighth: O(region) each, linear in all.
        if end - self.head < self._refused + self._refused // 8:
            return
        self.verified += 1
        if self._confirmed(tail, start, end, kind):
            self.kind, self.head, self.body, self._refused = kind, start, end, 0
        else:
            self._refused = end - self.head

    def _confirmed(self, tail: str, start: int, end: int, kind: str) -> bool:
        region = tail[self.head : end]
        if frontend_math(tail[self.head : start]).open_at is not None:
            return False  # inside math as the frontend pairs it
        line = region.count("\n", 0, start - self.head)
        wanted = "table_open" if kind == "table" else "fence"
        blocks = [t for t in parser().parse(region) if t.level == 0 and t.nesting >= 0 and t.map]
        if not blocks or blocks[-1].type != wanted or blocks[-1].map[0] != line:  # type: ignore[index]
            return False
        # Nor inside an HTML element that spans blocks (the browser parses their HTML together).
        html = [(t.map[0], t.content) for t in blocks if t.type == "html_block" and t.map]
        return not any(a < line and (b is None or b >= line) for a, b in element_spans(html))


def _balanced(row: str) -> bool:
    """Whether a table row's math (as the frontend pairs it) closes within the row: then the
    row renders the same on its own as in the whole table."""
    return _MATH_OR_ESCAPE.search(row) is None or frontend_math(row).open_at is None
