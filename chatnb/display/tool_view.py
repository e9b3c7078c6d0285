"""Tool calls shown live: one collapsible block per call, its arguments filling in as they
stream, then its result and how long it took.

While the arguments stream, the block is open and shows them pretty-printed as far as they
have arrived (partial JSON, see :mod:`~chatnb.display.json_blocks`); each call's output is a
:class:`~chatnb.display.live_output.LiveOutput`, so updates are throttled and paid for like the
answer's. When the tool loop reports the result, the block is replaced once more, closed, with
the call's duration in its title and the arguments and the (shortened) result inside. The
function name is the only part of the title taken from the model. The API restricts the names
a request offers, but not the name a server streams back (a hostile one sent
``x<img src=… onerror=…>``), so it is shown through :func:`chatnb.markdown.safety.escape_text`, like
every untrusted label; everything else the model wrote is inside code blocks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from ..events import ToolCallArgumentsDelta, ToolCallDone, ToolCallResult, ToolCallStarted
from ..markdown.safety import escape_text
from .json_blocks import MISSING, code_block, partial_value, pretty
from .live_output import LiveOutput
from .sinks import DisplaySink

__all__ = ["RESULT_PREVIEW_CHARS", "ToolCallView", "duration", "shortened"]

#: Characters of a tool's result shown in its block (the model gets all of it).
RESULT_PREVIEW_CHARS = 1_500
#: Characters of a tool's name shown in a title (the API allows 64; a server may send more).
NAME_CHARS = 80


def _arguments(text: str) -> str:
    if not text.strip():
        return "*…*"
    value = partial_value(text)
    return code_block(text, "") if value is MISSING else code_block(pretty(value), "json")


def duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds >= 1 else f"{max(seconds * 1000, 1):.0f} ms"


def shortened(text: str) -> str:
    if len(text) <= RESULT_PREVIEW_CHARS:
        return text
    return text[:RESULT_PREVIEW_CHARS] + f"\n… ({len(text):,} characters in all)"


def _result(content: str) -> str:
    """A result pretty-printed if it is JSON (whole: it is not streaming), else as text."""
    try:
        shown = pretty(json.loads(content))
    except (ValueError, RecursionError):  # not JSON, or nested past the recursion limit
        return code_block(shortened(content))
    return code_block(shortened(shown), "json")


@dataclass
class _Call:
    id: str
    name: str
    output: LiveOutput
    arguments: list[str] = field(default_factory=list)
    #: The stream finished this call's arguments (a call cut off mid-way never runs).
    complete: bool = False

    @property
    def text(self) -> str:
        return "".join(self.arguments)


class ToolCallView:
    """The tool calls of one choice."""

    events: ClassVar[tuple[type, ...]] = (
        ToolCallStarted,
        ToolCallArgumentsDelta,
        ToolCallDone,
        ToolCallResult,
    )

    def __init__(
        self,
        sink: DisplaySink,
        *,
        choice: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sink, self.choice, self._clock = sink, choice, clock
        self.calls: dict[int, _Call] = {}

    def handle(self, event: Any) -> None:
        if event.choice != self.choice:
            return
        if isinstance(event, ToolCallStarted):
            output = LiveOutput(self.sink, clock=self._clock)
            self.calls[event.index] = _Call(event.id, event.name, output)
            self.calls[event.index].output.live(self._block(event.index))
            return
        if isinstance(event, ToolCallResult) and event.index not in self.calls:
            # Answered by id (a call the loop answered as not run when it stopped).
            event = next(
                (replace(event, index=i) for i, c in self.calls.items() if c.id == event.id), event
            )
        call = self.calls.get(event.index)
        if call is None:
            return
        if isinstance(event, ToolCallArgumentsDelta):
            call.arguments.append(event.text)
            call.output.received(event.text)
            if call.output.due():
                call.output.live(self._block(event.index))
        elif isinstance(event, ToolCallDone):
            call.arguments, call.complete = [event.arguments], True
            self._settle(event.index, self._block(event.index))
        else:
            self._settle(event.index, self._block(event.index, result=event))

    def close(self) -> None:
        """The stream ended: every call shows all of its arguments (results come later), or
        says it was cut off before they were complete (it will not run)."""
        for index, call in self.calls.items():
            self._settle(index, self._block(index, cut=not call.complete))

    def _settle(self, index: int, markdown: str) -> None:
        self.calls[index].output.final(markdown)

    def _block(self, index: int, *, result: ToolCallResult | None = None, cut: bool = False) -> str:
        call = self.calls[index]
        name = escape_text(call.name, NAME_CHARS)
        if cut:
            title = f"✗ <code>{name}</code> · cut off before its arguments were complete"
            return f"<details><summary>{title}</summary>\n\n{_arguments(call.text)}\n\n</details>\n"
        if result is None:
            title = f"Calling <code>{name}</code>…"
            body = _arguments(call.text)
            return f"<details open><summary>{title}</summary>\n\n{body}\n\n</details>\n"
        mark = "✓" if result.ok else "✗"
        title = f"{mark} <code>{name}</code> · {duration(result.duration_s)}"
        body = f"Arguments:\n\n{_arguments(call.text)}\n\nResult:\n\n{_result(result.content)}"
        return f"<details><summary>{title}</summary>\n\n{body}\n\n</details>\n"
