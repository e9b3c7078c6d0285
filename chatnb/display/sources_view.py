"""What the server did and cited for an answer (Responses API): its built-in tool calls with
their final status, and the URLs the answer cites, as quiet lines under the answer.

Shown when the answer ends, not while it streams: a line in the middle of a streaming answer
would move it, and the status of a web search is worth a glance, not a live view.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..events import BuiltinToolStatus, Citation
from .sinks import DisplaySink

__all__ = ["SourcesView"]


class SourcesView:
    """Built-in tool calls (kind, what about, last status) and cited sources, once, at the end."""

    events: ClassVar[tuple[type, ...]] = (BuiltinToolStatus, Citation)

    def __init__(self, sink: DisplaySink, choice: int = 0) -> None:
        self.sink, self.choice = sink, choice
        self.tools: dict[str, BuiltinToolStatus] = {}
        self.sources: dict[str, Citation] = {}

    def handle(self, event: Any) -> None:
        if event.choice != self.choice:
            return
        if isinstance(event, BuiltinToolStatus):
            known = self.tools.get(event.id)
            detail = event.detail or (known.detail if known else "")
            self.tools[event.id] = BuiltinToolStatus(
                event.choice, event.id, event.kind, event.status, detail
            )
        elif event.url not in self.sources:
            self.sources[event.url] = event

    def lines(self) -> list[str]:
        """The lines shown under the answer (plain text: a URL is never rendered as HTML)."""
        lines = []
        for tool in self.tools.values():
            about = f" ({tool.detail})" if tool.detail else ""
            lines.append(f"({tool.kind.replace('_', ' ')}{about}: {tool.status})")
        for number, source in enumerate(self.sources.values(), 1):
            title = f"{source.title} " if source.title else ""
            lines.append(f"[{number}] {title}<{source.url}>")
        return lines

    def close(self) -> None:
        lines = self.lines()
        if lines:
            self.sink.note("\n".join(lines))
