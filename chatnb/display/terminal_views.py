"""The views of an answer in a terminal (a :class:`~chatnb.display.terminal.TerminalSink`).

A terminal prints below what it printed and never replaces it, so these views say each thing
once, when it is settled: the reasoning as it arrives (dim) and how long it took, each tool
call on a line of its own and its result on the next, a structured answer pretty-printed when
it is complete. The answer itself streams through the sink's
:meth:`~chatnb.display.terminal.TerminalSink.markdown_stream`. Everything the model wrote
reaches the terminal through :func:`~chatnb.display.terminal.printable`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..events import (
    ContentDelta,
    ReasoningDelta,
    RefusalDelta,
    ToolCallArgumentsDelta,
    ToolCallDone,
    ToolCallResult,
    ToolCallStarted,
)
from .structured_view import StructuredView
from .terminal import TerminalSink
from .tool_view import duration, shortened

__all__ = ["TerminalReasoning", "TerminalStructured", "TerminalToolCalls"]


class TerminalReasoning:
    """A thinking model's reasoning, printed dim as it arrives, then how long it took."""

    events: ClassVar[tuple[type, ...]] = (
        ReasoningDelta,
        ContentDelta,
        RefusalDelta,
        ToolCallStarted,
    )

    def __init__(
        self, sink: TerminalSink, *, choice: int = 0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.sink, self.choice, self._clock = sink, choice, clock
        self._started: float | None = None
        self._folded = False
        self._parts: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def handle(self, event: Any) -> None:
        if event.choice != self.choice:
            return
        if not isinstance(event, ReasoningDelta):
            self.close()  # the answer started
            return
        if self._started is None:
            self._started = self._clock()
            self.sink.write("Thinking: ", "dim")
        self._parts.append(event.text)
        self.sink.write(event.text, "dim italic")

    def close(self) -> None:
        if self._started is None or self._folded:
            return
        self._folded = True
        self.sink.write(f"\n(thought for {self._clock() - self._started:.1f} s)\n\n", "dim")


@dataclass
class _Call:
    id: str
    name: str
    arguments: list[str] = field(default_factory=list)
    complete: bool = False
    shown: str = ""


class TerminalToolCalls:
    """Each tool call on one line once its arguments are complete; its result on the next."""

    events: ClassVar[tuple[type, ...]] = (
        ToolCallStarted,
        ToolCallArgumentsDelta,
        ToolCallDone,
        ToolCallResult,
    )

    def __init__(self, sink: TerminalSink, *, choice: int = 0) -> None:
        self.sink, self.choice = sink, choice
        self.calls: dict[int, _Call] = {}

    def handle(self, event: Any) -> None:
        if event.choice != self.choice:
            return
        if isinstance(event, ToolCallStarted):
            self.calls[event.index] = _Call(event.id, event.name)
            return
        call = self.calls.get(event.index)
        if isinstance(event, ToolCallResult) and (call is None or call.id != event.id):
            # Answered by id (a call the loop answered as not run when it stopped).
            call = next((c for c in self.calls.values() if c.id == event.id), call)
        if call is None:
            return
        if isinstance(event, ToolCallArgumentsDelta):
            call.arguments.append(event.text)
        elif isinstance(event, ToolCallDone):
            call.arguments, call.complete = [event.arguments], True
            self._show(call, f"→ {call.name}({''.join(call.arguments)})", "cyan")
        else:
            mark = "✓" if event.ok else "✗"
            took = duration(event.duration_s)
            self._show(call, f"← {call.name} {mark} {took}: {shortened(event.content)}", "dim")

    def close(self) -> None:
        """The stream ended: a call cut off before its arguments were complete says so (it
        will not run); the others were shown when they completed."""
        for call in self.calls.values():
            if not call.complete:
                self._show(
                    call, f"✗ {call.name}: cut off before its arguments were complete", "red"
                )

    def _show(self, call: _Call, line: str, style: str) -> None:
        if line != call.shown:
            call.shown = line
            self.sink.line(line, style)


class TerminalStructured(StructuredView):
    """A structured answer, pretty-printed once when it is complete."""

    def handle(self, event: Any) -> None:
        if event.choice == self.choice:
            target = self._refusal if isinstance(event, RefusalDelta) else self._parts
            target.append(event.text)

    def close(self) -> None:
        if self._parts or self._refusal:
            self.sink.show(self._render(final=True) + "\n")
