"""A structured answer (JSON asked for with ``response_format``), shown filling in live.

The content of such an answer is a JSON document; shown as Markdown it would be a run of
half-written braces. This view parses it as far as it has arrived (partial JSON, see
:mod:`~chatnb.display.json_blocks`) and shows the value pretty-printed in a code block, in
one output replaced at most ~20 times a second within the answer's byte budget. A refusal is
shown as the model's words. If the finished text is not JSON, it is shown as it is, in a code
block, so nothing is hidden.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from ..events import ContentDelta, RefusalDelta
from ..markdown import neutralize
from .json_blocks import MISSING, code_block, partial_value, pretty
from .live_output import LiveOutput
from .sinks import DisplaySink

__all__ = ["StructuredView"]


class StructuredView:
    """The JSON answer of one choice, pretty-printed as it streams."""

    events: ClassVar[tuple[type, ...]] = (ContentDelta, RefusalDelta)

    def __init__(
        self,
        sink: DisplaySink,
        *,
        safe: bool = True,
        choice: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sink, self.safe, self.choice = sink, safe, choice
        self.output = LiveOutput(sink, clock=clock)
        self._parts: list[str] = []
        self._refusal: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def handle(self, event: Any) -> None:
        if event.choice != self.choice:
            return
        target = self._refusal if isinstance(event, RefusalDelta) else self._parts
        target.append(event.text)
        self.output.received(event.text)
        if self.output.due():
            self.output.live(self._render())

    def close(self) -> None:
        if self._parts or self._refusal:
            self.output.final(self._render(final=True))

    def _render(self, *, final: bool = False) -> str:
        if self._refusal:
            refusal = "".join(self._refusal)
            return neutralize(refusal) if self.safe else refusal
        value = partial_value(self.text)
        if value is MISSING:
            return code_block(self.text) if final else "*…*"
        return code_block(pretty(value), "json")
