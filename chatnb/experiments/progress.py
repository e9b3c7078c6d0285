"""How far an experiment has got: done, failed, tokens/s, cost so far and time left.

In a notebook, a progress bar and a line under it (ipywidgets); elsewhere, one line of text
rewritten in place, tqdm-style. Updates are throttled (every quarter second at most, and a
table of the results so far at most once a second), so a run of thousands of rows sends a few
messages a second, never one per row.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

__all__ = ["Progress"]

INTERVAL_S = 0.25
TABLE_INTERVAL_S = 1.0


def _clock_text(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """The progress of ``total`` trials, shown in a widget (``widget=True``) or as text."""

    def __init__(
        self,
        total: int,
        *,
        widget: bool,
        file: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self._clock, self._file = total, clock, file
        self.done = self.failed = self.tokens = 0
        self.cost = 0.0
        self._started = self._last = clock()
        self._last_table = -float("inf")
        self._bar: Any = None
        self._width = 0
        if widget:
            import ipywidgets
            from IPython.display import display

            self._bar = ipywidgets.IntProgress(value=0, min=0, max=total, description="0%")
            self._label = ipywidgets.HTML()
            self._table = ipywidgets.HTML()
            self._box = ipywidgets.VBox([ipywidgets.HBox([self._bar, self._label]), self._table])
            self._handle = display(self._box, display_id=True)  # type: ignore[no-untyped-call]

    def line(self) -> str:
        elapsed = self._clock() - self._started
        rate = self.tokens / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) * elapsed / self.done if self.done else None
        parts = [f"{self.done:,}/{self.total:,} done", f"{self.failed:,} failed"]
        parts += [f"{rate:,.0f} tokens/s", f"${self.cost:.4f} so far"]
        parts.append(f"{_clock_text(elapsed)} elapsed")
        if left is not None and self.done < self.total:
            parts.append(f"about {_clock_text(left)} left")
        return " · ".join(parts)

    def add(self, *, failed: bool, tokens: int, cost: float | None) -> None:
        self.done += 1
        self.failed += failed
        self.tokens += tokens
        self.cost += cost or 0.0
        if self._clock() - self._last >= INTERVAL_S:
            self.show()

    def table_due(self) -> bool:
        """Whether the table of results so far may be refreshed now."""
        if self._bar is None or self._clock() - self._last_table < TABLE_INTERVAL_S:
            return False
        self._last_table = self._clock()
        return True

    def set_table(self, html: str) -> None:
        if self._bar is not None:
            self._table.value = html

    def show(self, note: str = "") -> None:
        self._last = self._clock()
        text = self.line() + (f" · {note}" if note else "")
        if self._bar is not None:
            self._bar.value = self.done
            self._bar.description = f"{self.done / self.total:.0%}" if self.total else ""
            self._label.value = text
        else:
            file = self._file or sys.stderr
            file.write("\r" + text.ljust(self._width))  # over the longer line before it
            file.flush()
            self._width = len(text)

    def replace(self, markdown: str) -> bool:
        """Put ``markdown`` where the widgets were, and close them: a cell that ends with one
        table, and a saved notebook that holds it rather than the widgets' fallback text.
        False when there are no widgets to replace."""
        if self._bar is None:
            return False
        self._handle.update({"text/markdown": markdown, "text/plain": markdown}, raw=True)
        for widget in (self._bar, self._label, self._table, *self._box.children, self._box):
            widget.close()
        self._bar = None
        return True

    def close(self, note: str = "") -> None:
        self.show(note)
        if self._bar is None:
            (self._file or sys.stderr).write("\n")
