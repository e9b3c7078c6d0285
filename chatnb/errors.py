"""The chatnb exception hierarchy.

Every error chatnb raises on purpose derives from :class:`ChatnbError`, so a notebook can
catch them all with one ``except``. Messages are written for the person at the keyboard:
what happened, in plain words, and where it helps, what to do next.
"""

from __future__ import annotations

__all__ = [
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


class ContextBudgetError(ChatnbError, ValueError):
    """A prompt cannot fit the token budget, whatever is dropped."""
