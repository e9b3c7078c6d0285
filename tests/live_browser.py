"""A model of the browser side of the live widget (chatnb/display/live_markdown.js).

It applies each message as the script does and records every Markdown document the script
would hand to the frontend's renderer (each frozen part once, the open tail up to its plain
offset at every message), and the plain text shown after it. Tests judge those documents with
the frontend's own parser (marked) or with markdown-it; the browser tests check the script
itself in JupyterLab.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chatnb.display.live_markdown import LiveMarkdown


def _utf16_slice(text: str, start: int, end: int | None = None) -> str:
    units = text.encode("utf-16-le")
    return units[2 * start : None if end is None else 2 * end].decode("utf-16-le")


@dataclass
class LiveState:
    """What the reader sees after one message: frozen parts, the rendered tail, plain text."""

    parts: list[str]
    tail: str
    plain: str
    math: bool


@dataclass
class _Widget:
    browser: LiveBrowser
    text: str = ""
    parts: list[str] = field(default_factory=list)
    plain: int | None = None
    math: bool = False
    closed: bool = False

    def send(self, message: dict[str, Any]) -> None:
        self.browser.messages.append(message)
        self.text += message.get("append", "")
        for part in message.get("freeze", []):
            source = _utf16_slice(self.text, 0, part["n"])
            self.text = _utf16_slice(self.text, part["n"])
            self.parts.append(part.get("markdown", source))
            self.browser.rendered.append(self.parts[-1])
        self.plain = message.get("plain", self.plain)
        self.math = message.get("math", self.math)
        cut = len(self.text.encode("utf-16-le")) // 2 if self.plain is None else self.plain
        tail, plain = _utf16_slice(self.text, 0, cut), _utf16_slice(self.text, cut)
        self.browser.rendered.append(tail)
        self.browser.states.append(LiveState(list(self.parts), tail, plain, self.math))

    def close(self) -> None:
        self.closed = True


class LiveBrowser:
    """A sink whose frontend renders the live widget (JupyterLab), as a list of outputs."""

    appends_only = False
    renders_live = True

    def __init__(self) -> None:
        self.outputs: list[str] = []
        self.rendered: list[str] = []  # every document the frontend rendered, in order
        self.states: list[LiveState] = []
        self.messages: list[dict[str, Any]] = []
        self.widgets: list[_Widget] = []

    def show(self, markdown: str) -> int:
        self.outputs.append(markdown)
        self.rendered.append(markdown)
        return len(self.outputs) - 1

    def replace(self, handle: int, markdown: str) -> None:
        self.outputs[handle] = markdown
        self.rendered.append(markdown)

    def note(self, text: str) -> None:
        pass

    def show_live_markdown(self) -> LiveMarkdown:
        self.widgets.append(_Widget(self))
        self.outputs.append("")
        return LiveMarkdown(self.widgets[-1], len(self.outputs) - 1)

    def settle(self, live: Any, markdown: str) -> int:
        self.outputs[live.position] = markdown
        self.rendered.append(markdown)
        live.close()
        return int(live.position)
