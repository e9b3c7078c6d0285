"""A dozen Markdown outputs that hold an answer of any length, each piece sent about once.

Finished pieces of an answer go into outputs one below the other. While there is room, a piece
gets an output of its own and costs its own bytes. When all :data:`limit` outputs are in use,
the newest outputs are merged with the piece into one: the shortest run at the end whose total
is still smaller than the output before it, so sizes grow towards the top and a byte is merged
again only when what came after it has caught up with it. The merged run's other outputs are
emptied and used again for the next pieces (they sit just below it). The stream pays for each
placement, its bytes and its messages, from its budgets (:meth:`OutputSlots.plan`) and may
hold a piece back until it can.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .sinks import DisplaySink

__all__ = ["OutputSlots", "Placement"]


@dataclass
class _Slot:
    handle: Any
    markdown: str = ""

    @property
    def size(self) -> int:
        return len(self.markdown.encode())


@dataclass(frozen=True)
class Placement:
    """What placing a piece would cost: bytes and display messages sent, and the outputs that
    hold text afterwards (the end sends one message to each, :meth:`OutputSlots.show_all`)."""

    bytes: int
    messages: int
    used: int


class OutputSlots:
    """At most ``limit`` Markdown outputs, filled in order; ``new_output(markdown)`` opens one
    below the last (the stream puts it where its live output is)."""

    def __init__(self, sink: DisplaySink, limit: int, new_output: Callable[[str], Any]) -> None:
        self.sink, self.limit, self._new_output = sink, limit, new_output
        self.slots: list[_Slot] = []
        self.used = 0  # slots holding text; those after are empty and used again
        #: Messages sent and the bytes of Markdown they carried.
        self.messages = self.payload_bytes = 0

    def _run_start(self, size: int) -> int:
        """Where the run to merge with a piece of ``size`` bytes starts (all slots in use)."""
        start, total = self.used - 1, size + self.slots[self.used - 1].size
        while start > 0 and total >= self.slots[start - 1].size:
            start -= 1
            total += self.slots[start].size
        return start

    def plan(self, markdown: str) -> Placement:
        """What placing ``markdown`` would send, without sending it."""
        size = len(markdown.encode())
        if self.used < self.limit:
            return Placement(size, 1, self.used + 1)
        start = self._run_start(size)
        merged = self.slots[start : self.used]
        # One message for the merged output, one for each output of the run it empties.
        return Placement(size + sum(slot.size for slot in merged), len(merged), start + 1)

    def place(self, markdown: str) -> None:
        """Show ``markdown`` below everything placed so far."""
        if self.used < self.limit:
            if self.used < len(self.slots):
                self._show(self.slots[self.used], markdown)
            else:
                self.slots.append(_Slot(self._new_output(markdown), markdown))
                self._count(markdown)
            self.used += 1
            return
        start = self._run_start(len(markdown.encode()))
        merged = _join([slot.markdown for slot in self.slots[start : self.used]] + [markdown])
        self._show(self.slots[start], merged)
        for slot in self.slots[start + 1 : self.used]:
            self._show(slot, "")
        self.used = start + 1

    def joined(self) -> str:
        """Everything placed, as one text that renders the same."""
        return _join([slot.markdown for slot in self.slots[: self.used]])

    def show_all(self, markdown: str) -> None:
        """Show ``markdown`` in place of everything placed (in the first output)."""
        if self.slots:
            self._show(self.slots[0], markdown)
            for slot in self.slots[1:]:
                self._show(slot, "")
            self.used = 1

    def _show(self, slot: _Slot, markdown: str) -> None:
        if markdown != slot.markdown:
            self.sink.replace(slot.handle, markdown)
            slot.markdown = markdown
            self._count(markdown)

    def _count(self, markdown: str) -> None:
        self.messages += 1
        self.payload_bytes += len(markdown.encode())


def _join(pieces: list[str]) -> str:
    """Pieces of Markdown, each a run of whole blocks, as one text that renders the same."""
    return "".join(pieces)
