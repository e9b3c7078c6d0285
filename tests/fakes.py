"""Fakes shared by the pure tests: a clock driven by hand, and display sinks that keep what a
notebook frontend keeps and count what the kernel would send it.

With them a view's limits (bytes sent, messages a second) are measured in stream time,
without a kernel: tests/test_live_limits.py. tests/live_browser.py is the sink whose frontend
renders the live answer itself (the third way a stream shows an answer).
"""

from __future__ import annotations

from typing import Any

from chatnb.display.live_text import LiveText

__all__ = ["FakeClock", "FakeLiveSink", "FakeSink", "FakeWidget"]


class FakeClock:
    """Seconds that pass only when told: :meth:`advance` moves the time, and each reading
    adds ``step`` first (``step=0.06``: every reading is a render interval later)."""

    def __init__(self, start: float = 0.0, *, step: float = 0.0) -> None:
        self.now, self.step = start, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeSink:
    """Markdown outputs as a frontend keeps them: what each shows now (``outputs``, notes
    included, as the plain-text outputs they are), every version of Markdown sent
    (``versions``), each call (``calls``), and the display messages and Markdown bytes the
    kernel would send (``messages``, ``sent``)."""

    appends_only = False

    def __init__(self) -> None:
        self.outputs: list[str] = []
        self.versions: list[str] = []
        self.notes: list[str] = []
        self.calls: list[tuple[str, int]] = []
        self.messages = self.sent = 0

    def _count(self, markdown: str) -> None:
        self.versions.append(markdown)
        self.messages += 1
        self.sent += len(markdown.encode())

    def show(self, markdown: str) -> int:
        self.outputs.append(markdown)
        self.calls.append(("show", len(self.outputs) - 1))
        self._count(markdown)
        return len(self.outputs) - 1

    def replace(self, handle: int, markdown: str) -> None:
        self.outputs[handle] = markdown
        self.calls.append(("replace", handle))
        self._count(markdown)

    def note(self, text: str) -> None:
        self.outputs.append(text)
        self.notes.append(text)
        self.messages += 1


class FakeWidget:
    """A live-text widget's browser side: applies each custom message as its script does
    (chatnb/display/live_text.py) and keeps them all."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.text = ""
        self.closed = False

    def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        if message.get("clear"):
            self.text = ""
        if message.get("drop"):
            units = self.text.encode("utf-16-le")[2 * message["drop"] :]
            self.text = units.decode("utf-16-le")
        self.text += message.get("append", "")

    def close(self) -> None:
        self.closed = True


class FakeLiveSink(FakeSink):
    """A :class:`FakeSink` that also shows live text (a notebook frontend that does not render
    the live answer itself): each live output is a :class:`FakeWidget` in its own output,
    replaced by Markdown when it settles."""

    def __init__(self) -> None:
        super().__init__()
        self.widgets: list[FakeWidget] = []
        self.live: dict[int, FakeWidget] = {}  # outputs that show a live widget now

    def show_live(self) -> LiveText:
        widget = FakeWidget()
        self.widgets.append(widget)
        self.outputs.append("")
        self.live[len(self.outputs) - 1] = widget
        self.messages += 1  # the display message that shows the widget
        return LiveText(widget, len(self.outputs) - 1)

    def settle(self, live: Any, markdown: str) -> int:
        position = int(live.position)
        self.live.pop(position, None)
        self.replace(position, markdown)
        live.close()
        return position

    @property
    def all_messages(self) -> int:
        """Display messages and the live widgets' custom messages."""
        return self.messages + sum(len(widget.sent) for widget in self.widgets)

    @property
    def appended_bytes(self) -> int:
        """Bytes of text appended to live widgets."""
        return sum(
            len(message.get("append", "").encode())
            for widget in self.widgets
            for message in widget.sent
        )

    def shown(self) -> list[str]:
        """What each output shows: its Markdown, or its live widget's text."""
        return [
            self.live[i].text if i in self.live else output for i, output in enumerate(self.outputs)
        ]
