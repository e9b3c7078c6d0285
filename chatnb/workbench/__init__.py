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
    """The Chatbot the workbench uses when none is given: OpenAI when ``OPENAI_API_KEY`` is set,
    else the embedded mock (so that notebooks run anywhere), saying which."""
    if os.environ.get("OPENAI_API_KEY"):
        return Chatbot(**options)
    warn_once(
        "workbench:mock",
        "No OPENAI_API_KEY is set: the workbench answers with chatnb's embedded mock. Set the "
        "key (then %chat_reset), or pass a Chatbot of your own.",
    )
    return Chatbot.mock(**options)
