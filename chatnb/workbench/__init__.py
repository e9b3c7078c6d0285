"""The prompt-tuning workbench: a chat widget, the ``%%chat`` magic, side-by-side comparisons.

It sits on top of :class:`~chatnb.Chatbot`; nothing below imports it.
"""

from __future__ import annotations

import os
from typing import Any

from ..chatbot import Chatbot
from ..errors import warn_once

__all__ = ["default_chatbot"]


def default_chatbot(**options: Any) -> Chatbot:
    """The Chatbot the workbench uses when none is given: OpenAI (or ``OPENAI_BASE_URL``) when
    ``OPENAI_API_KEY`` is set, else the embedded mock (so that notebooks run anywhere), saying
    what it found and why it chose the mock."""
    if os.environ.get("OPENAI_API_KEY"):
        return Chatbot(**options)
    base_url = os.environ.get("OPENAI_BASE_URL")
    if base_url:
        found = (
            f"OPENAI_BASE_URL is set ({base_url}) but OPENAI_API_KEY is not, so the workbench "
            "answers with chatnb's embedded mock instead. Local servers (Ollama, vLLM, "
            "llama.cpp, LM Studio) accept any key: set OPENAI_API_KEY to anything, then "
            "%chat_reset."
        )
    else:
        found = (
            "No OPENAI_API_KEY is set, so the workbench answers with chatnb's embedded mock. "
            "Set the key (then %chat_reset), or pass a Chatbot of your own."
        )
    warn_once(f"workbench:mock:{base_url}", found)
    return Chatbot.mock(**options)
