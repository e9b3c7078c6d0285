"""Where a streamed answer is shown: sinks, the streaming Markdown, and one view per channel.

* :mod:`~chatnb.display.sinks`: the kernel's display outputs, widgets, or plain text;
* :mod:`~chatnb.display.markdown_stream`: :class:`MarkdownStream`, finished blocks sent once;
* :mod:`~chatnb.display.views`: the views of an answer's channels, and the router between
  them and the events of a stream (the content, reasoning, tool-call, structured-answer and
  progress views).
"""

from __future__ import annotations

from .markdown_stream import (
    PREVIEW_BUDGET_RATIO,
    PREVIEW_BUDGET_SLACK,
    RENDER_INTERVAL_S,
    MarkdownStream,
)
from .progress import Progress
from .reasoning_view import ReasoningView
from .sinks import (
    DisplaySink,
    IPythonSink,
    TextSink,
    WidgetSink,
    auto_sink,
    kernel_shell,
    markdown_widget,
)
from .structured_view import StructuredView
from .tool_view import ToolCallView
from .views import ContentView, View, Views, answer_views

__all__ = [
    "PREVIEW_BUDGET_RATIO",
    "PREVIEW_BUDGET_SLACK",
    "RENDER_INTERVAL_S",
    "ContentView",
    "DisplaySink",
    "IPythonSink",
    "MarkdownStream",
    "Progress",
    "ReasoningView",
    "StructuredView",
    "TextSink",
    "ToolCallView",
    "View",
    "Views",
    "WidgetSink",
    "answer_views",
    "auto_sink",
    "kernel_shell",
    "markdown_widget",
]
