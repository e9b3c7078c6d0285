"""Views: one small object per channel of an answer, each owning its display outputs.

An exchange hands every :mod:`~chatnb.events` event to :class:`Views`, which passes it to the
views of that event's channel. The content view shows the answer's text (or a refusal) as
streaming Markdown; the reasoning view a thinking model's reasoning above it
(:mod:`~chatnb.display.reasoning_view`); the tool-call view each call's arguments and result
(:mod:`~chatnb.display.tool_view`); a structured answer replaces the content view with
:mod:`~chatnb.display.structured_view`. A new channel is a new view that names the events it
takes; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Protocol

from ..events import ContentDelta, RefusalDelta, StreamEvent
from .markdown_stream import MarkdownStream
from .progress import Progress
from .reasoning_view import ReasoningView
from .sinks import DisplaySink, IPythonSink, auto_sink
from .sources_view import SourcesView
from .structured_view import StructuredView
from .terminal import TerminalSink, TerminalText
from .terminal_views import TerminalReasoning, TerminalStructured, TerminalToolCalls
from .tool_view import ToolCallView

__all__ = ["ContentView", "View", "Views", "answer_views"]


class View(Protocol):
    """Shows one channel of an answer."""

    #: The event types this view takes.
    events: ClassVar[tuple[type, ...]]

    def handle(self, event: Any) -> None:
        """Show what ``event`` adds."""

    def close(self) -> None:
        """The answer ended (completely or not): show the final state, once."""


class ContentView:
    """The answer's text of one choice (its content, or its refusal), as streaming Markdown."""

    events: ClassVar[tuple[type, ...]] = (ContentDelta, RefusalDelta)

    def __init__(self, stream: MarkdownStream | TerminalText, choice: int = 0) -> None:
        self.stream = stream
        self.choice = choice

    def handle(self, event: ContentDelta | RefusalDelta) -> None:
        if event.choice == self.choice:
            self.stream.feed(event.text)

    def close(self) -> None:
        self.stream.close()


class Views:
    """Routes each event to the views of its channel; notes go to the sink below them.

    ``usage_line``: the answer's usage goes under it when it ends (where a line of progress
    stood while it streamed).
    """

    def __init__(
        self, views: Sequence[View], sink: DisplaySink, *, usage_line: bool = False
    ) -> None:
        self.views = list(views)
        self.sink = sink
        self.usage_line = usage_line
        self._routes: dict[type, list[View]] = {}
        for view in self.views:
            for kind in view.events:
                self._routes.setdefault(kind, []).append(view)

    def handle(self, events: Iterable[StreamEvent]) -> None:
        for event in events:
            for view in self._routes.get(type(event), ()):
                view.handle(event)

    def note(self, text: str) -> None:
        """One quiet line of plain text below the answer."""
        self.sink.note(text)

    def close(self) -> None:
        for view in self.views:
            view.close()


def answer_views(
    display: bool | DisplaySink,
    *,
    safe: bool = True,
    output: Any = None,
    reasoning: bool = True,
    structured: bool = False,
    math: bool = True,
) -> Views | None:
    """The views of one answer: in ``output`` (a widget) when given, else where ``display``
    says (``True``: this environment's sink; ``False``: nowhere; or a sink). ``reasoning``
    shows a thinking model's reasoning above the answer; ``structured``: the answer is a JSON
    document, shown pretty-printed as it fills in rather than as Markdown; ``math``: math is
    shown as the model meant it (``\\[ .. \\]`` delimiters, currency ``$``)."""
    if output is None and display is False:
        return None
    if output is not None or display is True:
        sink = auto_sink(output)
    else:
        assert display is not False
        sink = display
    if isinstance(sink, TerminalSink):
        return _terminal_views(sink, reasoning=reasoning, structured=structured)
    views: list[View] = [ReasoningView(sink, safe=safe)] if reasoning else []
    # The progress line and the usage line: in the kernel's outputs, not in a widget (which
    # has a status of its own).
    progress = Progress() if isinstance(sink, IPythonSink) else None
    if progress is not None:
        views.append(progress)
    views.append(ToolCallView(sink))
    views.append(SourcesView(sink))
    if structured:
        return Views([*views, StructuredView(sink, safe=safe)], sink, usage_line=bool(progress))
    footer = progress.line if progress else None
    stream = MarkdownStream(safe, sink=sink, footer=footer, math=math)
    return Views([*views, ContentView(stream)], sink, usage_line=progress is not None)


def _terminal_views(sink: TerminalSink, *, reasoning: bool, structured: bool) -> Views:
    """The views of one answer in a terminal, which prints each thing once. The progress and
    usage lines only where the terminal renders (in plain text they would spoil a
    transcript)."""
    views: list[View] = [TerminalReasoning(sink)] if reasoning else []
    progress = Progress() if sink.usage_line else None
    if progress is not None:
        views.append(progress)
    views += [TerminalToolCalls(sink), SourcesView(sink)]
    if structured:
        return Views([*views, TerminalStructured(sink)], sink, usage_line=sink.usage_line)
    answer = sink.markdown_stream(progress.line if progress is not None else None)
    return Views([*views, ContentView(answer)], sink, usage_line=sink.usage_line)
