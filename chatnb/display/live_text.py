"""The one output that grows by appending: text the Markdown outputs have not caught up with.

A notebook frontend can only *replace* a display output, so every update of a Markdown output
costs its whole size. Keeping the visible answer within a fraction of a second of the received
text at a bounded cost therefore needs one place that grows by its deltas alone: this widget
(an `anywidget <https://anywidget.dev>`_ of a few lines of JavaScript). Each append is a custom
comm message carrying only the new text; the browser adds it as a text node, so nothing in it
is ever parsed as HTML (no fetch, no script) and Markdown in it shows as typed. A line in
italics under it (the progress line) is replaced on its own.

The widget lives only while an answer streams: the stream replaces its output with Markdown
when it closes, so a saved notebook holds ordinary Markdown outputs and no widget.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from .live_markdown import close_with_layout

__all__ = ["LiveText", "live_text_widget"]

# Appends arrive as custom messages, which a view that is not rendered yet would miss: the
# text is kept by the model (``initialize`` runs when the widget is created, before any view),
# keyed by a trait because anywidget hands each hook its own model object.
_ESM = """
const lives = new Map();

function initialize({ model }) {
  const key = model.get("key");
  const live = { text: model.get("text"), footer: "", code: model.get("code"), views: new Set() };
  lives.set(key, live);
  const show = (view) => {
    view.text.textContent = live.text;
    view.footer.textContent = live.footer;
    view.text.style.fontFamily = live.code ? "var(--jp-code-font-family, monospace)" : "inherit";
  };
  live.show = show;
  model.on("msg:custom", (msg) => {
    if (msg.clear) live.text = "";
    if (msg.drop) live.text = live.text.slice(msg.drop);
    if (msg.code !== undefined) live.code = msg.code;
    if (msg.footer !== undefined) live.footer = msg.footer;
    if (msg.append) live.text += msg.append;
    // Only a clear, a drop or a change of font redraws the text: an append adds a text node.
    const redraw = msg.clear || msg.drop || msg.code !== undefined;
    for (const view of live.views) {
      if (redraw) show(view);
      else if (msg.append) view.text.append(msg.append);
      if (msg.footer !== undefined) view.footer.textContent = live.footer;
    }
  });
  return () => lives.delete(key);
}

function render({ model, el }) {
  const live = lives.get(model.get("key"));
  const text = document.createElement("div");
  text.className = "chatnb-live-text";
  text.style.whiteSpace = "pre-wrap";
  text.style.overflowWrap = "anywhere";
  text.style.color = "var(--jp-content-font-color2, inherit)";  // still arriving
  const footer = document.createElement("em");
  footer.className = "chatnb-live-footer";
  footer.style.opacity = "0.7";
  el.classList.add("chatnb-live");
  el.append(text, footer);
  const view = { text, footer };
  live.views.add(view);
  live.show(view);
  return () => live.views.delete(view);
}

export default { initialize, render };
"""


@lru_cache(maxsize=1)
def _widget_class() -> type:
    # anywidget (and ipywidgets under it) is imported on first use: ``import chatnb`` stays light.
    import anywidget
    import traitlets

    class _LiveTextWidget(anywidget.AnyWidget):
        _esm = _ESM
        key = traitlets.Unicode("").tag(sync=True)
        text = traitlets.Unicode("").tag(sync=True)
        code = traitlets.Bool(False).tag(sync=True)

    return _LiveTextWidget


def live_text_widget() -> Any:
    """A new live-text widget (an ``anywidget.AnyWidget``), empty."""
    return _widget_class()(key=uuid.uuid4().hex)


class LiveText:
    """A live-text widget as the stream drives it: append, clear, the footer, the style.

    ``position`` is the sink's handle of the output the widget is shown in, which the stream
    replaces with Markdown when the widget's part of the answer is rendered for good.
    """

    def __init__(self, widget: Any, position: Any) -> None:
        self.widget, self.position = widget, position
        self.text = ""
        self._footer = ""
        self._code = False
        #: Custom messages sent and the bytes of answer text they carried.
        self.messages = self.text_bytes = 0

    def _send(self, message: dict[str, Any]) -> None:
        self.widget.send(message)
        self.messages += 1

    def append(self, text: str, footer: str | None = None) -> None:
        """Add ``text`` at the end, and show ``footer`` under it, in one message."""
        message: dict[str, Any] = {}
        if text:
            self.text += text
            self.text_bytes += len(text.encode())
            message["append"] = text
        if footer is not None and footer != self._footer:
            self._footer = message["footer"] = footer
        if message:
            self._send(message)

    def keep_last(self, text: str) -> None:
        """Show only ``text``, which ends what is shown: the part before it is dropped."""
        if not self.text.endswith(text):
            self.clear()
            self.append(text)
        elif len(text) < len(self.text):
            dropped = self.text[: len(self.text) - len(text)]
            self.text = text
            # JavaScript counts UTF-16 code units.
            self._send({"drop": len(dropped.encode("utf-16-le")) // 2})

    def clear(self) -> None:
        if self.text:
            self.text = ""
            self._send({"clear": True})

    def footer(self, line: str) -> None:
        if line != self._footer:
            self._footer = line
            self._send({"footer": line})

    def code(self, code: bool) -> None:
        """Show the text in the code font (it continues a code block) or the text font."""
        if code != self._code:
            self._code = code
            self._send({"code": code})

    def close(self) -> None:
        """Free the widget (its output has been replaced)."""
        close_with_layout(self.widget)
