"""The chat widget: a conversation view, a prompt box, Send and Stop, and the knobs of tuning.

Send starts the answer as an asyncio task on the kernel's event loop, so the kernel stays free
to receive the Stop click; Stop cancels the task, which the Chatbot treats as an interrupt (the
partial answer is kept, noted ``interrupted``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import ipywidgets as widgets
from IPython.display import display

from ..chatbot import Chatbot
from ..display import markdown_widget
from ..errors import ChatnbError
from ..exchange import Answer
from ..markdown import neutralize

__all__ = ["ChatWidget"]


class ChatWidget:
    """``ChatWidget(bot)``: chat with ``bot`` through buttons and sliders.

    The parts are attributes, so code (and tests) can drive it as a user would:
    ``w.prompt.value = "Hi"; w.send.click()``, then ``await w.task``.

    Args:
        bot: The Chatbot to chat with; its conversation and settings are the widget's.
    """

    def __init__(self, bot: Chatbot) -> None:
        self.bot = bot
        self.task: asyncio.Task[Answer | None] | None = None
        # A Box, not an Output: its children are set through widget state, which reaches the
        # browser even from the task a click starts (display messages would not).
        self.conversation = widgets.VBox(layout=widgets.Layout(max_height="600px", overflow="auto"))
        self.prompt = widgets.Textarea(
            placeholder="Ask something…", layout=widgets.Layout(width="100%")
        )
        self.send = widgets.Button(description="Send", button_style="primary", icon="paper-plane")
        self.stop = widgets.Button(description="Stop", icon="stop", disabled=True)
        self.model = widgets.Text(value=bot.model, description="model")
        self.system = widgets.Textarea(value=bot.history.system or "", description="system")
        sampling = bot.sampling
        self.temperature = widgets.FloatSlider(
            value=sampling.get("temperature", 1.0),
            min=0.0,
            max=2.0,
            step=0.05,
            description="temperature",
        )
        self.top_p = widgets.FloatSlider(
            value=sampling.get("top_p", 1.0), min=0.0, max=1.0, step=0.05, description="top_p"
        )
        self.max_tokens = widgets.IntText(
            value=sampling.get("max_tokens") or 0, description="max tokens", tooltip="0: no limit"
        )
        self.status = widgets.Label()
        self.send.on_click(lambda _: self.start())
        self.stop.on_click(lambda _: self.cancel())
        controls = widgets.VBox(
            [self.model, self.system, self.temperature, self.top_p, self.max_tokens]
        )
        self.view = widgets.VBox(
            [
                self.conversation,
                self.prompt,
                widgets.HBox([self.send, self.stop, self.status]),
                widgets.Accordion(children=[controls], titles=("settings",)),
            ]
        )

    def _ipython_display_(self) -> None:
        display(self.view)  # type: ignore[no-untyped-call]

    def _apply_settings(self) -> dict[str, Any]:
        self.bot.model = self.model.value.strip() or self.bot.model
        self.bot.history.system = self.system.value.strip() or None
        sampling: dict[str, Any] = {
            "temperature": self.temperature.value,
            "top_p": self.top_p.value,
        }
        if self.max_tokens.value > 0:
            sampling["max_tokens"] = self.max_tokens.value
        return sampling

    def start(self) -> asyncio.Task[Answer | None] | None:
        """What Send does: ask the prompt box's text (nothing when empty or already busy)."""
        prompt = self.prompt.value.strip()
        if not prompt or (self.task is not None and not self.task.done()):
            return None
        sampling = self._apply_settings()
        self.prompt.value = ""
        # The prompt is shown as Markdown, in safe mode as the answers are: it may be pasted
        # from anywhere (a web page, an email) and could carry an image that fetches.
        shown = neutralize(prompt) if self.bot.safe else prompt
        self._add(markdown_widget(f"**You:** {shown}"))
        self.send.disabled, self.stop.disabled = True, False
        self.status.value = "answering…"
        self.task = asyncio.ensure_future(self._answer(prompt, sampling))
        return self.task

    def cancel(self) -> None:
        """What Stop does: end the answer now, keeping what arrived."""
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def _answer(self, prompt: str, sampling: dict[str, Any]) -> Answer | None:
        try:
            answer = await self.bot.aask(prompt, output=self.conversation, **sampling)
        except asyncio.CancelledError:
            self.status.value = "stopped: the partial answer is kept"
            return None
        except ChatnbError as error:
            self._note(f"{type(error).__name__}: {error}")
            self.status.value = "failed"
            return None
        finally:
            self.send.disabled, self.stop.disabled = False, True
        usage = answer.usage
        self.status.value = (
            f"{usage.billed_completion_tokens:,} tokens in {usage.total_s:.1f} s"
            if usage and usage.total_s is not None
            else "done"
        )
        return answer

    def _note(self, text: str) -> None:
        self._add(markdown_widget(text, "text/plain"))

    def _add(self, child: Any) -> None:
        self.conversation.children = (*self.conversation.children, child)
