"""Where a streamed answer is shown: IPython display outputs, a widget, or plain text.

:class:`MarkdownStream` sends each finished :class:`~chatnb.markdown.Part` to the frontend
once and re-renders only the open tail, at most about 20 times a second and within a byte
budget, so a 20 KB answer costs the browser a small multiple of 20 KB instead of the tens of
megabytes of re-sending the whole answer on every token.

How the outputs evolve: the open tail lives in one display output. When parts finish, that
output is updated one last time with the finished text and a new output is opened below it
for the new tail. Outputs therefore appear in text order and a finished one is never touched
again.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol, TextIO

from .markdown import MarkdownSplitter

__all__ = [
    "DisplaySink",
    "IPythonSink",
    "MarkdownStream",
    "TextSink",
    "WidgetSink",
    "auto_sink",
    "kernel_shell",
    "markdown_widget",
]

#: Fewest seconds between two renders of the open tail (about 20 renders a second at most).
RENDER_INTERVAL_S = 0.05
#: The open tail is re-sent only while the bytes spent on it stay under this multiple of the
#: bytes of text received (plus a small allowance, so short answers still stream smoothly).
PREVIEW_BUDGET_RATIO = 1.5
PREVIEW_BUDGET_SLACK = 2048


class DisplaySink(Protocol):
    """A place that shows Markdown outputs and can replace an output it showed."""

    def show(self, markdown: str) -> Any:
        """Show a new output below the previous ones; return a handle for :meth:`replace`."""

    def replace(self, handle: Any, markdown: str) -> None:
        """Replace what the output ``handle`` shows."""

    def note(self, text: str) -> None:
        """Show one quiet line of plain text (a warning, a notice)."""


class IPythonSink:
    """Display outputs of the running IPython kernel (``text/markdown``, by display id)."""

    def show(self, markdown: str) -> Any:
        from IPython.display import display

        return display({"text/markdown": markdown}, raw=True, display_id=True)  # type: ignore[no-untyped-call]

    def replace(self, handle: Any, markdown: str) -> None:
        handle.update({"text/markdown": markdown}, raw=True)

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

    def _append(self, child: Any) -> None:
        import ipywidgets

        if self._group is None or len(self._group.children) >= self.GROUP:
            self._group = ipywidgets.VBox()
            if self._groups is None:
                self._groups = ipywidgets.VBox([self._group])
                self._attach(self._groups)
            else:
                self._groups.children = (*self._groups.children, self._group)
        self._group.children = (*self._group.children, child)

    def show(self, markdown: str) -> Any:
        child = markdown_widget(markdown)
        self._append(child)
        return child

    def replace(self, handle: Any, markdown: str) -> None:
        handle.outputs = (
            {"output_type": "display_data", "data": {"text/markdown": markdown}, "metadata": {}},
        )

    def note(self, text: str) -> None:
        self._append(markdown_widget(text, "text/plain"))


class TextSink:
    """Plain text, written as it arrives (scripts, terminals, frontends without displays)."""

    def __init__(self, file: TextIO | None = None) -> None:
        self.file = file

    def write(self, text: str) -> None:
        file = self.file or sys.stdout
        file.write(text)
        file.flush()

    def note(self, text: str) -> None:
        self.write(text + "\n")


def kernel_shell() -> Any:
    """The IPython kernel shell running this code, if any (never imports IPython itself)."""
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    shell = get_ipython()
    # A kernel can update display outputs; terminal IPython cannot.
    return shell if shell is not None and hasattr(shell, "kernel") else None


def auto_sink(output: Any = None) -> DisplaySink | TextSink:
    """The sink for this environment: ``output`` (a widget) if given, else kernel or text."""
    if output is not None:
        return WidgetSink(output)
    return IPythonSink() if kernel_shell() is not None else TextSink()


class MarkdownStream:
    """Streamed Markdown shown live, with finished blocks sent once and never again.

    >>> with MarkdownStream() as stream:       # doctest: +SKIP
    ...     for delta in deltas:
    ...         stream.feed(delta)

    ``safe=True`` (the default) shows raw HTML as text and remote images as links; switch
    either back on with ``allow_html`` / ``allow_remote_images``. ``output`` renders into an
    ``ipywidgets.Output``; ``sink`` takes any :class:`DisplaySink` or :class:`TextSink`.
    """

    def __init__(
        self,
        safe: bool = True,
        *,
        allow_html: bool | None = None,
        allow_remote_images: bool | None = None,
        output: Any = None,
        sink: DisplaySink | TextSink | None = None,
        interval_s: float = RENDER_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._splitter = MarkdownSplitter(
            allow_html=not safe if allow_html is None else allow_html,
            allow_remote_images=not safe if allow_remote_images is None else allow_remote_images,
        )
        self.sink = sink if sink is not None else auto_sink(output)
        self.interval_s = interval_s
        self._clock = clock
        self._last_render = -float("inf")
        self._tail: Any = None
        self._tail_shown = ""
        self._fed_bytes = 0
        self._preview_bytes = 0
        self._ended_with_newline = True
        self.closed = False
        #: Display messages sent and the bytes of Markdown they carried (for tests/benchmarks).
        self.messages = 0
        self.payload_bytes = 0

    # -- feeding ---------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """Everything fed so far."""
        return self._splitter.text

    def feed(self, text: str) -> None:
        if self.closed:
            raise ValueError("this MarkdownStream is closed")
        if not text:
            return
        self._splitter.feed(text)
        self._fed_bytes += len(text.encode())
        self._ended_with_newline = text.endswith("\n")
        if isinstance(self.sink, TextSink):
            self.sink.write(text)
        elif self._clock() - self._last_render >= self.interval_s:
            self._render(final=False)

    def close(self) -> None:
        """Render the final state (once; closing again does nothing)."""
        if self.closed:
            return
        self.closed = True
        if isinstance(self.sink, TextSink):
            if not self._ended_with_newline:
                self.sink.write("\n")
            return
        self._render(final=True)

    def note(self, text: str) -> None:
        """One quiet line of plain text below the answer."""
        self.sink.note(text)

    def __enter__(self) -> MarkdownStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- rendering -------------------------------------------------------------------------

    def _send(self, markdown: str) -> None:
        assert not isinstance(self.sink, TextSink)
        if self._tail is None:
            self._tail = self.sink.show(markdown)
        else:
            self.sink.replace(self._tail, markdown)
        self._tail_shown = markdown
        self.messages += 1
        self.payload_bytes += len(markdown.encode())

    def _render(self, final: bool) -> None:
        self._last_render = self._clock()
        part = self._splitter.advance(final=final)
        if part is not None:
            # The tail's output becomes the finished part; the new tail gets its own output.
            if self._tail is None or part.markdown != self._tail_shown:
                self._send(part.markdown)
            self._tail = None
        if final:
            return
        preview = self._splitter.preview()
        if not preview or (preview == self._tail_shown and self._tail is not None):
            return
        cost = len(preview.encode())
        budget = PREVIEW_BUDGET_RATIO * self._fed_bytes + PREVIEW_BUDGET_SLACK
        if self._preview_bytes + cost <= budget:
            self._preview_bytes += cost
            self._send(preview)
