"""chatnb: chat with LLMs inside Jupyter.

The public names are re-exported here and imported on first use, so ``import chatnb`` stays
fast and never pulls in IPython widgets, FastAPI, uvicorn or markdown-it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_ERRORS = (
    "APIConnectionError",
    "APIRequestError",
    "APITimeoutError",
    "AnswerInterrupted",
    "AnswerTimeoutError",
    "ArgumentError",
    "AuthenticationError",
    "BadRequestError",
    "CacheReadError",
    "CacheWriteWarning",
    "ChatnbError",
    "ChatnbWarning",
    "ChunkValidationError",
    "ConnectionDroppedError",
    "ContextBudgetError",
    "ContextLengthError",
    "ExpectationError",
    "FrameTooLargeError",
    "NotFoundError",
    "OpenAIInternalsError",
    "OptionError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "StreamContradictionError",
    "StreamError",
    "StreamErrorFrame",
    "StructuredOutputError",
    "ToolStepLimitError",
    "TruncatedStreamError",
)

_EXPORTS = {
    # wire format
    "ChatCompletionChunk": "schema",
    "ChatCompletionRequest": "schema",
    "ChatCompletionResponse": "schema",
    "ChatMessage": "schema",
    "Choice": "schema",
    "ChunkChoice": "schema",
    "Delta": "schema",
    "ErrorResponse": "schema",
    "Usage": "schema",
    # streams
    "SSEDecoder": "stream",
    "StreamAccumulator": "stream",
    "iter_chunks": "stream",
    "parse_chunk": "stream",
    # tokens and history
    "History": "history",
    "Dropped": "history",
    "count_tokens": "tokens",
    "encoding_for": "tokens",
    "model_limits": "tokens",
    # events of a stream
    "ChoiceFinished": "events",
    "ContentDelta": "events",
    "ReasoningDelta": "events",
    "RefusalDelta": "events",
    "StreamEvent": "events",
    "ToolCallArgumentsDelta": "events",
    "ToolCallDone": "events",
    "ToolCallResult": "events",
    "ToolCallStarted": "events",
    "UsageReported": "events",
    # chatting
    "Answer": "exchange",
    "Chatbot": "chatbot",
    "ChatUsage": "usage",
    # tools and structured answers
    "tool": "tools",
    "FunctionTool": "tools",
    "Toolbox": "tools",
    "ToolResult": "tools",
    # record, replay, remember
    "runs": "runlog",
    # the workbench
    "ChatWidget": "workbench.widget",
    "compare": "workbench.compare",
    # experiments
    "experiment": "experiments",
    "Experiment": "experiments",
    # display
    "MarkdownStream": "display",
    # errors and warnings
    **{name: "errors" for name in _ERRORS},
}

__all__ = sorted([*_EXPORTS, "__version__"])

if TYPE_CHECKING:
    from .chatbot import Chatbot
    from .display import MarkdownStream
    from .errors import (
        AnswerInterrupted,
        AnswerTimeoutError,
        APIConnectionError,
        APIRequestError,
        APITimeoutError,
        ArgumentError,
        AuthenticationError,
        BadRequestError,
        CacheReadError,
        CacheWriteWarning,
        ChatnbError,
        ChatnbWarning,
        ChunkValidationError,
        ConnectionDroppedError,
        ContextBudgetError,
        ContextLengthError,
        ExpectationError,
        FrameTooLargeError,
        NotFoundError,
        OpenAIInternalsError,
        OptionError,
        PermissionDeniedError,
        RateLimitError,
        ServerError,
        StreamContradictionError,
        StreamError,
        StreamErrorFrame,
        StructuredOutputError,
        ToolStepLimitError,
        TruncatedStreamError,
    )
    from .events import (
        ChoiceFinished,
        ContentDelta,
        ReasoningDelta,
        RefusalDelta,
        StreamEvent,
        ToolCallArgumentsDelta,
        ToolCallDone,
        ToolCallResult,
        ToolCallStarted,
        UsageReported,
    )
    from .exchange import Answer
    from .experiments import Experiment, experiment
    from .history import Dropped, History
    from .runlog import runs
    from .schema import (
        ChatCompletionChunk,
        ChatCompletionRequest,
        ChatCompletionResponse,
        ChatMessage,
        Choice,
        ChunkChoice,
        Delta,
        ErrorResponse,
        Usage,
    )
    from .stream import SSEDecoder, StreamAccumulator, iter_chunks, parse_chunk
    from .tokens import count_tokens, encoding_for, model_limits
    from .tools import FunctionTool, Toolbox, ToolResult, tool
    from .usage import ChatUsage
    from .workbench.compare import compare
    from .workbench.widget import ChatWidget


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext chatnb``: the ``%%chat``, ``%chat_reset`` and ``%chat_history`` magics."""
    from .workbench.magic import load_ipython_extension as load

    load(shell)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'chatnb' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
