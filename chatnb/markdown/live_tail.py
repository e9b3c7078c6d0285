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
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .math_text import open_display_math
from .safety import open_code_block
from .splitter import table_head

__all__ = ["CHECK_INTERVAL_S", "TRIGGERS", "TailCheck"]

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
