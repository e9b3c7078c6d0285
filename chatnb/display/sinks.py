"""Where display outputs go: the kernel's display outputs, widgets, or plain text.

A sink shows Markdown outputs one below the other and can replace one it showed. A terminal
cannot take back what it showed: its sinks (:mod:`~chatnb.display.terminal`) get views of their
own. A sink that can also show a :class:`~chatnb.display.live_text.LiveText`
(an output that grows by appending) has ``show_live``, and ``settle`` to turn that output into
Markdown. A sink whose frontend renders Markdown in the live output itself (a
:class:`LiveMarkdownSink`: JupyterLab, Notebook 7) gets one
:class:`~chatnb.display.live_markdown.LiveMarkdown` per answer instead.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Protocol, TextIO, runtime_checkable

from .live_markdown import LiveMarkdown, live_markdown_widget
from .live_text import LiveText, live_text_widget
from .terminal import TerminalSink, TextSink

__all__ = [
    "DisplaySink",
    "IPythonSink",
    "LiveMarkdownSink",
    "LiveTextSink",
    "TextSink",
    "WidgetSink",
    "auto_sink",
    "frontend_renders_live",
    "kernel_shell",
    "markdown_widget",
    "terminal_sink",
]


class DisplaySink(Protocol):
    """A place that shows Markdown outputs and can replace an output it showed."""

    def show(self, markdown: str) -> Any:
        """Show a new output below the previous ones; return a handle for :meth:`replace`."""

    def replace(self, handle: Any, markdown: str) -> None:
        """Replace what the output ``handle`` shows."""

    def note(self, text: str) -> None:
        """Show one quiet line of plain text (a warning, a notice)."""


@runtime_checkable
class LiveTextSink(Protocol):
    """A sink that can show one output that grows by appending plain text (the fallback live
    view, where the frontend does not render Markdown inside a widget)."""

    def show_live(self) -> LiveText:
        """A live-text widget in a new output below the previous ones."""

    def settle(self, live: LiveMarkdown | LiveText, markdown: str) -> Any:
        """Turn a live output into a Markdown output; its handle for ``replace``."""


@runtime_checkable
class LiveMarkdownSink(Protocol):
    """A sink that can show one output the browser renders as Markdown while it grows."""

    #: Whether the frontend renders it (else it shows the text plainly, and the sink's
    #: Markdown outputs carry the rendering while the answer streams).
    renders_live: bool

    def show_live_markdown(self) -> LiveMarkdown:
        """A live-Markdown widget in a new output below the previous ones."""

    def settle(self, live: LiveMarkdown | LiveText, markdown: str) -> Any:
        """Turn a live output into a Markdown output; its handle for ``replace``."""


#: Environment variables that name a frontend whose widget manager has no Markdown renderer
#: for widgets (VS Code's Jupyter extension, Colab): there, Markdown outputs render the answer.
_FRONTENDS_WITHOUT_LIVE_RENDERING = ("VSCODE_PID", "VSCODE_CWD", "COLAB_RELEASE_TAG")


def frontend_renders_live() -> bool:
    """Whether the frontend is taken to render Markdown inside the live widget.

    A kernel cannot ask its frontend while a cell runs, so this is decided from the
    environment: ``CHATNB_LIVE_RENDER=1`` or ``0`` says it outright; otherwise yes, unless the
    kernel was started by VS Code or runs in Colab."""
    setting = os.environ.get("CHATNB_LIVE_RENDER", "").strip().lower()
    if setting:
        return setting not in {"0", "false", "no", "off"}
    if "google.colab" in sys.modules:
        return False
    return not any(name in os.environ for name in _FRONTENDS_WITHOUT_LIVE_RENDERING)


class IPythonSink:
    """Display outputs of the running IPython kernel (``text/markdown``, by display id)."""

    def __init__(self) -> None:
        self.renders_live = frontend_renders_live()

    def show(self, markdown: str) -> Any:
        from IPython.display import display

        return display({"text/markdown": markdown}, raw=True, display_id=True)  # type: ignore[no-untyped-call]

    def replace(self, handle: Any, markdown: str) -> None:
        handle.update({"text/markdown": markdown}, raw=True)

    def settle(self, live: LiveMarkdown | LiveText, markdown: str) -> Any:
        """Turn the live output into a Markdown output; its handle for :meth:`replace`."""
        live.position.update({"text/markdown": markdown}, raw=True)
        live.close()
        return live.position

    def show_live_markdown(self) -> LiveMarkdown:
        """A live-Markdown widget in a new output below the previous ones."""
        from IPython.display import display

        widget = live_markdown_widget()
        return LiveMarkdown(widget, display(widget, display_id=True))  # type: ignore[no-untyped-call]

    def show_live(self) -> LiveText:
        """A live-text widget in a new output below the previous ones."""
        from IPython.display import display

        widget = live_text_widget()
        return LiveText(widget, display(widget, display_id=True))  # type: ignore[no-untyped-call]

    def note(self, text: str) -> None:
        from IPython.display import display

        display({"text/plain": text}, raw=True)  # type: ignore[no-untyped-call]


def markdown_widget(markdown: str, mime: str = "text/markdown") -> Any:
    """An ``ipywidgets.Output`` showing ``markdown``, set through the widget's state."""
    import ipywidgets

    child = ipywidgets.Output()
    child.outputs = ({"output_type": "display_data", "data": {mime: markdown}, "metadata": {}},)
    return child


class WidgetSink:
    """Outputs inside an ``ipywidgets.Output`` or ``Box``, each a child ``Output`` widget.

    Frontends apply neither display-id updates to what an ``Output`` widget captured
    (JupyterLab shows the first version forever), nor any display message whose request has
    finished (a widget callback's task outlives its click). Widget state messages are routed by
    widget, so here everything goes through state: each display output is a child ``Output``
    whose ``outputs`` are replaced with just its own Markdown. Children are kept in groups of
    :data:`GROUP`, so adding one re-sends a short list, never the list of all of them.
    """

    GROUP = 16

    def __init__(self, output: Any) -> None:
        self.output = output
        self.renders_live = frontend_renders_live()
        self._groups: Any = None
        self._group: Any = None

    def _attach(self, widget: Any) -> None:
        import ipywidgets
        from IPython.display import display

        if isinstance(self.output, ipywidgets.Box):
            self.output.children = (*self.output.children, widget)
        else:
            with self.output:
                display(widget)  # type: ignore[no-untyped-call]

    def _append(self, child: Any) -> Any:
        """Add ``child`` below the others; the group it went into."""
        import ipywidgets

        if self._group is None or len(self._group.children) >= self.GROUP:
            self._group = ipywidgets.VBox()
            if self._groups is None:
                self._groups = ipywidgets.VBox([self._group])
                self._attach(self._groups)
            else:
                self._groups.children = (*self._groups.children, self._group)
        self._group.children = (*self._group.children, child)
        return self._group

    def show(self, markdown: str) -> Any:
        child = markdown_widget(markdown)
        self._append(child)
        return child

    def show_live(self) -> LiveText:
        """A live-text widget as a child, in its place among the others."""
        widget = live_text_widget()
        return LiveText(widget, self._append(widget))

    def show_live_markdown(self) -> LiveMarkdown:
        """A live-Markdown widget as a child, in its place among the others."""
        widget = live_markdown_widget()
        return LiveMarkdown(widget, self._append(widget))

    def settle(self, live: LiveMarkdown | LiveText, markdown: str) -> Any:
        """Put a Markdown child in the live widget's place; its handle for :meth:`replace`."""
        group, child = live.position, markdown_widget(markdown)
        group.children = tuple(child if c is live.widget else c for c in group.children)
        live.close()
        return child

    def replace(self, handle: Any, markdown: str) -> None:
        handle.outputs = (
            {"output_type": "display_data", "data": {"text/markdown": markdown}, "metadata": {}},
        )

    def note(self, text: str) -> None:
        self._append(markdown_widget(text, "text/plain"))


def _wants_rich(file: TextIO) -> bool:
    setting = os.environ.get("CHATNB_TERMINAL", "").strip().lower()
    if setting in {"plain", "text", "0", "off"}:
        return False
    if setting != "rich":
        isatty = getattr(file, "isatty", None)
        if not (callable(isatty) and isatty()) or os.environ.get("TERM") == "dumb":
            return False
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def terminal_sink() -> TerminalSink:
    """The terminal's sink: Markdown rendered by ``rich`` when standard output is a terminal
    and ``rich`` is installed (``CHATNB_TERMINAL=plain`` or ``rich`` says it outright),
    else plain text."""
    if _wants_rich(sys.stdout):
        from .rich_terminal import RichSink

        return RichSink()
    return TextSink()


def kernel_shell() -> Any:
    """The IPython kernel shell running this code, if any (never imports IPython itself)."""
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    shell = get_ipython()
    # A kernel can update display outputs; terminal IPython cannot.
    return shell if shell is not None and hasattr(shell, "kernel") else None


def auto_sink(output: Any = None) -> DisplaySink:
    """The sink for this environment: ``output`` (a widget) if given, else the kernel's
    outputs, else the terminal (:func:`~chatnb.display.terminal.terminal_sink`)."""
    if output is not None:
        return WidgetSink(output)
    return IPythonSink() if kernel_shell() is not None else terminal_sink()
