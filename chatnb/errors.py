"""Every exception and warning chatnb raises on purpose.

::

    ChatnbError                      catch them all with one ``except``
    ├── StreamError                  an answer could not be read to its end (.partial)
    │   ├── ChunkValidationError     a frame that is not a valid chunk (.raw); also a ValueError
    │   ├── StreamContradictionError two valid chunks that contradict each other
    │   ├── StreamErrorFrame         the server sent an error object mid-stream (.code)
    │   ├── TruncatedStreamError     the stream ended before a finish_reason
    │   ├── ConnectionDroppedError   the connection broke in the middle of the answer
    │   ├── FrameTooLargeError       a line or event past the SSE reader's cap
    │   └── AnswerTimeoutError       past the answer's deadline; also an APITimeoutError
    ├── APIRequestError              the server refused or failed it (.status, .code, .param)
    │   ├── AuthenticationError      401
    │   ├── PermissionDeniedError    403
    │   ├── NotFoundError            404
    │   ├── BadRequestError          400
    │   │   └── ContextLengthError   400 context_length_exceeded
    │   ├── RateLimitError           429
    │   ├── ServerError              5xx
    │   └── APIConnectionError       no server answered (.status is None)
    │       └── APITimeoutError      the server did not answer in time
    ├── CacheReadError               the cache file is damaged or cannot be read
    ├── CacheMissError               replay mode met a request that was never recorded
    ├── ArgumentError                a call chatnb cannot take; also a TypeError
    │   └── OptionError              an option no request takes ("did you mean")
    ├── ContextBudgetError           a prompt cannot fit the budget; also a ValueError
    ├── ExpectationError             an experiment failed its checks; also an AssertionError
    ├── StructuredOutputError        a structured answer that is not the asked-for JSON (.raw)
    ├── ToolStepLimitError           the model still called tools after max_steps rounds
    ├── OpenAIInternalsError         the installed openai lacks a part chatnb reads
    └── AnswerInterrupted            Ctrl-C or Stop (.partial); also a KeyboardInterrupt

    ChatnbWarning                    a guess was made where a fact was missing, or
    │                                something that is not the answer failed
    └── CacheWriteWarning            the cache file could not keep an answer or a log line

Messages are written for the person at the keyboard: what happened, in plain words, and where
it helps, what to do next. An error is never edited once raised: context is added by making a
new one (:meth:`StreamError.with_outcome`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TypeVar

__all__ = [
    "APIConnectionError",
    "APIRequestError",
    "APITimeoutError",
    "AnswerInterrupted",
    "AnswerTimeoutError",
    "ArgumentError",
    "AuthenticationError",
    "BadRequestError",
    "CacheMissError",
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
    "shorten",
    "warn_once",
]

#: How much of an offending raw payload an error message shows.
RAW_PREVIEW_CHARS = 300

_Stream = TypeVar("_Stream", bound="StreamError")


def shorten(text: str, limit: int = RAW_PREVIEW_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


class ChatnbError(Exception):
    """Base class of every error chatnb raises on purpose."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a traceback: the message already says what happened
        # and what to do, and the frames inside chatnb and openai would only bury it.
        return [f"{type(self).__name__}: {self}"]


# --- reading a stream ----------------------------------------------------------------------


class StreamError(ChatnbError):
    """A streamed answer could not be read to its end.

    ``partial`` holds the text received before the failure, so nothing is lost.
    """

    partial: str

    def __init__(self, message: str, *, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial

    def with_outcome(
        self: _Stream,
        outcome: str,
        partial: str,
        redact: Callable[[str], str] = str,
    ) -> _Stream:
        """A copy of this error that also says what became of the answer (``outcome``), its
        words passed through ``redact``."""
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.args = (redact(f"{self}{outcome}"),)
        raw = getattr(twin, "raw", None)
        if isinstance(raw, str):
            twin.__dict__["raw"] = redact(raw)
        twin.partial = partial
        twin.__cause__ = self.__cause__
        return twin


class ChunkValidationError(StreamError, ValueError):
    """A streamed frame is not a valid ``chat.completion.chunk``."""

    def __init__(self, message: str, *, raw: str, partial: str = "") -> None:
        super().__init__(message, partial=partial)
        self.raw = raw


class StreamContradictionError(StreamError):
    """Two valid chunks of one stream contradict each other."""


class StreamErrorFrame(StreamError):
    """The server sent an error object in the middle of the stream."""

    def __init__(self, message: str, *, code: str | int | None = None, partial: str = "") -> None:
        super().__init__(message, partial=partial)
        self.code = code


class TruncatedStreamError(StreamError):
    """The stream ended before every choice had a ``finish_reason``."""


class ConnectionDroppedError(StreamError):
    """The connection broke in the middle of the answer."""


class FrameTooLargeError(StreamError):
    """A line or an event of the stream passed the SSE reader's cap
    (:data:`chatnb.stream.MAX_FRAME_BYTES`): chatnb stopped reading the answer."""


# --- the request ---------------------------------------------------------------------------


class APIRequestError(ChatnbError):
    """The server refused or failed a request before answering (an HTTP error, no server).

    ``status`` is the HTTP status (``None`` when the server could not be reached), ``code``
    the error code the server gave, if any, and ``param`` the request field it named.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.param = param


class AuthenticationError(APIRequestError):
    """401: the server refused the API key."""


class PermissionDeniedError(APIRequestError):
    """403: the key may not use this model or endpoint."""


class NotFoundError(APIRequestError):
    """404: the server does not know the model or the endpoint."""


class BadRequestError(APIRequestError):
    """400: the server rejected the request."""


class ContextLengthError(BadRequestError):
    """400 ``context_length_exceeded``: the conversation does not fit the server's window."""


class RateLimitError(APIRequestError):
    """429: rate limited, still after the client's retries."""


class ServerError(APIRequestError):
    """5xx: the server failed, still after the client's retries."""


class APIConnectionError(APIRequestError):
    """No server answered at the base URL."""


class APITimeoutError(APIConnectionError):
    """The server did not answer in time."""


class AnswerTimeoutError(StreamError, APITimeoutError):
    """The answer was still streaming at the Chatbot's ``answer_timeout``; what had arrived
    is in ``partial`` and the History. Also an :class:`APITimeoutError`, so one ``except``
    catches every timeout."""


# --- the rest ------------------------------------------------------------------------------


class CacheReadError(ChatnbError):
    """The cache's SQLite file is damaged or cannot be read (the file is named)."""


class CacheMissError(ChatnbError):
    """``replay`` mode met a request that was never recorded."""


class ArgumentError(ChatnbError, TypeError):
    """A call chatnb cannot take (``bot.ask(42)``); the message says what it takes. Also a
    ``TypeError``, as Python's own are for a wrong argument."""


class OptionError(ArgumentError):
    """An option that no request takes (a typo, a vendor field outside ``extra_body``, a field
    the Chatbot sets itself); the message names the closest one."""


class OpenAIInternalsError(ChatnbError):
    """The installed openai lacks a part chatnb reads (:mod:`chatnb.openai_private`): a version
    chatnb does not support; the message names the part and the version."""


class ContextBudgetError(ChatnbError, ValueError):
    """A prompt cannot fit the token budget, whatever is dropped."""


class ExpectationError(ChatnbError, AssertionError):
    """An experiment failed the checks written for it (``results.check(...).require()``);
    ``report`` holds every check's outcome, and the message lists the failed ones in words."""

    def __init__(self, message: str, *, report: object = None) -> None:
        super().__init__(message)
        self.report = report


class StructuredOutputError(ChatnbError, ValueError):
    """A structured answer (``response_format=``) is a refusal, not JSON, or not valid against
    the schema. The answer is kept in the History; ``raw`` holds its text, ``refusal`` the
    model's refusal if it refused."""

    def __init__(self, message: str, *, raw: str = "", refusal: str | None = None) -> None:
        super().__init__(message)
        self.raw, self.refusal = raw, refusal


class ToolStepLimitError(ChatnbError):
    """The model asked for tools again after ``max_steps`` rounds; its last calls were
    answered as not run, so the History stays one the API accepts."""


class AnswerInterrupted(ChatnbError, KeyboardInterrupt):
    """The user interrupted an answer; what had arrived is kept in ``partial`` and the history.

    Also a ``KeyboardInterrupt``, so the interrupted cell stops as the user asked.
    """

    def __init__(self, message: str, *, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial


class ChatnbWarning(UserWarning):
    """A chatnb warning: a guess was made where a fact was missing, or something beside the
    answer (its cache entry, its log line) failed while the answer itself was kept."""


class CacheWriteWarning(ChatnbWarning):
    """The cache file could not keep an answer or a run-log line (a full or read-only disk, a
    damaged file): the answer is still committed and shown, only not kept for a re-run."""


_warned: set[str] = set()


def warn_once(key: str, message: str) -> None:
    """Warn with ``message`` the first time ``key`` is seen in this process."""
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, ChatnbWarning, stacklevel=3)
