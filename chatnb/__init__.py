"""chatnb: chat with LLMs inside Jupyter.

The public names are the imports in the ``TYPE_CHECKING`` block below, written once: type
checkers read them there, and at run time the same block, read on first use, says where each
name lives, so ``import chatnb`` stays fast and never pulls in IPython widgets, FastAPI,
uvicorn or markdown-it. Everything else is imported from its module (``chatnb.schema``,
``chatnb.events``, ...); a name that was public before still works here, with a
``DeprecationWarning`` that names its module.
"""

from __future__ import annotations

import importlib
import warnings
from functools import cache
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # the public names (``X as X``: re-exported for strict type checkers)
    from .chatbot import Chatbot as Chatbot
    from .display import MarkdownStream as MarkdownStream
    from .errors import AnswerInterrupted as AnswerInterrupted
    from .errors import ChatnbError as ChatnbError
    from .errors import ChatnbWarning as ChatnbWarning
    from .errors import ChunkValidationError as ChunkValidationError
    from .errors import ContextBudgetError as ContextBudgetError
    from .errors import StreamError as StreamError
    from .errors import StructuredOutputError as StructuredOutputError
    from .events import ContentDelta as ContentDelta
    from .experiments import experiment as experiment
    from .history import History as History
    from .runlog import runs as runs
    from .stream import SSEDecoder as SSEDecoder
    from .stream import StreamAccumulator as StreamAccumulator
    from .stream import iter_chunks as iter_chunks
    from .stream import parse_chunk as parse_chunk
    from .tokens import count_tokens as count_tokens
    from .tokens import encoding_for as encoding_for
    from .tokens import model_limits as model_limits
    from .tools import tool as tool
    from .workbench.compare import compare as compare
    from .workbench.widget import ChatWidget as ChatWidget

#: Names that were public here before; each still resolves, with a DeprecationWarning.
_MOVED = {
    "schema": "ChatCompletionChunk ChatCompletionRequest ChatCompletionResponse ChatMessage "
    "Choice ChunkChoice Delta ErrorResponse Usage",
    "history": "Dropped",
    "events": "ChoiceFinished ReasoningDelta RefusalDelta StreamEvent ToolCallArgumentsDelta "
    "ToolCallDone ToolCallResult ToolCallStarted UsageReported",
    "exchange": "Answer",
    "usage": "ChatUsage",
    "tools": "FunctionTool Toolbox ToolResult",
    "experiments": "Experiment",
    "errors": "APIConnectionError APIRequestError APITimeoutError AnswerTimeoutError "
    "ArgumentError AuthenticationError BadRequestError CacheReadError CacheWriteWarning "
    "ConnectionDroppedError ContextLengthError ExpectationError FrameTooLargeError "
    "NotFoundError OpenAIInternalsError OptionError PermissionDeniedError RateLimitError "
    "ServerError StreamContradictionError StreamErrorFrame ToolStepLimitError "
    "TruncatedStreamError",
}


@cache
def _public() -> dict[str, str]:
    """Each public name and its module, read from the ``TYPE_CHECKING`` block above."""
    import ast

    with open(__file__, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    block = next(node for node in tree.body if isinstance(node, ast.If))
    return {
        alias.asname or alias.name: node.module or ""
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


@cache
def _moved() -> dict[str, str]:
    return {name: module for module, names in _MOVED.items() for name in names.split()}


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext chatnb``: the ``%%chat``, ``%chat_reset`` and ``%chat_history`` magics."""
    from .workbench.magic import load_ipython_extension as load

    load(shell)


def __getattr__(name: str) -> Any:
    if name == "__all__":
        return sorted([*_public(), "__version__"])
    module = _public().get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value
    moved = _moved().get(name)
    if moved is None:
        raise AttributeError(f"module 'chatnb' has no attribute {name!r}")
    warnings.warn(
        f"chatnb.{name} is deprecated; import it from chatnb.{moved}",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(f".{moved}", __name__), name)


def __dir__() -> list[str]:
    return sorted([*_public(), "__version__"])
