"""The chatnb exception hierarchy.

Every error chatnb raises on purpose derives from :class:`ChatnbError`, so a notebook can
catch them all with one ``except``. Messages are written for the person at the keyboard:
what happened, in plain words, and where it helps, what to do next.
"""

from __future__ import annotations

__all__ = [
    "APIRequestError",
    "AnswerInterrupted",
    "ChatnbError",
    "ChunkValidationError",
    "ContextBudgetError",
    "StreamContradictionError",
    "StreamError",
    "StreamErrorFrame",
    "TruncatedStreamError",
]

#: How much of an offending raw payload an error message shows.
RAW_PREVIEW_CHARS = 300


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


class StreamError(ChatnbError):
    """A streamed answer could not be read to its end.

    ``partial`` holds the text received before the failure, so nothing is lost.
    """

    partial: str

    def __init__(self, message: str, *, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial


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


class APIRequestError(ChatnbError):
    """The server refused or failed a request before answering (an HTTP error, no server).

    ``status`` is the HTTP status (``None`` when the server could not be reached).
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class AnswerInterrupted(KeyboardInterrupt):
    """The user interrupted an answer; what had arrived is kept in ``partial`` and the history.

    A ``KeyboardInterrupt``, so the interrupted cell stops as the user asked.
    """

    def __init__(self, message: str, *, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class ContextBudgetError(ChatnbError, ValueError):
    """A prompt cannot fit the token budget, whatever is dropped."""
