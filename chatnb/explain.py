"""Errors in plain words: what happened, what is kept, and what to do next.

The Chatbot hands every failure of an ask here. Server messages are passed on, but never a
secret: every text goes through the client's :class:`~chatnb.redaction.Secrets` (its key,
credential headers, URL credentials, and anything shaped like a key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import (
    APIConnectionError,
    APIRequestError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChatnbError,
    ConnectionDroppedError,
    ContextLengthError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamError,
)
from .redaction import Secrets, redact_url

if TYPE_CHECKING:
    import openai

__all__ = ["Where", "explain"]


@dataclass(frozen=True)
class Where:
    """What an explanation may mention about the request that failed, and what it must not."""

    base_url: str
    model: str
    context_window: int
    retries: int
    secrets: Secrets = field(default_factory=Secrets)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", redact_url(self.base_url))


def explain(error: BaseException, partial: str, where: Where) -> BaseException:
    """A new chatnb error that says what happened in plain words and what became of the answer
    (errors chatnb does not know pass through)."""
    import openai

    redact = where.secrets.redact
    kept = (
        f" The partial answer ({len(partial):,} characters) is kept in bot.history."
        if partial
        else " The question was not added to the history; ask again when it is fixed."
    )
    if isinstance(error, StreamError):  # a server's error frame may echo what it was sent
        return error.with_outcome(kept, partial, redact)
    if isinstance(error, openai.APIStatusError):
        message = _status_explanation(error, where, redact(_server_message(error)))
        kind = _status_error_class(error.status_code, _error_code(error))
        return kind(message + kept, status=error.status_code, code=_error_code(error))
    if isinstance(error, openai.APITimeoutError):
        return APITimeoutError(
            f"The server at {where.base_url} did not answer in time (after the client's "
            f"retries). Try again, or pass a client with a longer timeout." + kept
        )
    if isinstance(error, openai.APIConnectionError) and isinstance(error.__cause__, ChatnbError):
        return error.__cause__  # raised by a transport of chatnb's own: it says it best
    if isinstance(error, openai.APIConnectionError):
        cause = redact(str(error.__cause__ or error))
        return APIConnectionError(
            f"Could not reach the server at {where.base_url} ({cause}). Is it running, and "
            "is the base URL right? For a try without a server, use Chatbot.mock()." + kept
        )
    if _is_read_timeout(error):
        return ConnectionDroppedError(
            f"The server went quiet in the middle of the answer: nothing arrived within the "
            f"client's read timeout ({type(error).__name__}). Try again, or give the client a "
            "longer timeout for slow models." + kept,
            partial=partial,
        )
    if _is_transport_error(error):
        return ConnectionDroppedError(
            f"The connection dropped in the middle of the answer "
            f"({type(error).__name__}: {redact(str(error))})." + kept,
            partial=partial,
        )
    if isinstance(error, ChatnbError | TypeError) or not isinstance(error, Exception):
        return error  # chatnb's own words; a wrong argument; Ctrl-C, exits
    return APIConnectionError(  # raised inside the client or a transport of the caller's
        f"The request failed inside the client ({type(error).__name__}: "
        f"{redact(str(error))})." + kept
    )


_STATUS_ERRORS: dict[int, type[APIRequestError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def _status_error_class(status: int, code: str | None) -> type[APIRequestError]:
    if status == 400 and code == "context_length_exceeded":
        return ContextLengthError
    if status >= 500:
        return ServerError
    return _STATUS_ERRORS.get(status, APIRequestError)


def _server_message(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(error.message)


def _error_code(error: openai.APIStatusError) -> str | None:
    code = getattr(error, "code", None)
    return None if code is None else str(code)


def _status_explanation(error: openai.APIStatusError, where: Where, message: str) -> str:
    status = error.status_code
    said = f' The server said: "{message}"' if message else ""
    retries = f"after {where.retries} retries" if where.retries else "with no retries"
    if status == 401:
        return (
            f"The server refused the API key (401 Unauthorized).{said} Check OPENAI_API_KEY "
            "(or the api_key= you passed) and that it belongs to this server."
        )
    if status == 403:
        return f"The key may not use this model or endpoint (403 Forbidden).{said}"
    if status == 404:
        return (
            f"The server does not know this model or endpoint (404): model {where.model!r} at "
            f"{where.base_url}.{said} Check the model name and the base URL."
        )
    if status == 429:
        return (
            f"The server is rate limiting these requests (429) and still refused {retries}."
            f"{said} Wait a little and ask again, or check your plan's limits."
        )
    if status == 400 and _error_code(error) == "context_length_exceeded":
        return (
            f"The conversation does not fit the model's context window (400 "
            f"context_length_exceeded), although chatnb trimmed it to "
            f"{where.context_window:,} tokens for {where.model!r}.{said} This server's "
            "window is smaller: pass context_window= (and max_output_tokens=) to the Chatbot."
        )
    if status == 400:
        return f"The server rejected the request (400 Bad Request).{said}"
    if status >= 500:
        return (
            f"The server failed ({status}) and still failed {retries}.{said} "
            "This is on the server's side: try again in a moment."
        )
    return f"The server refused the request ({status}).{said}"


def _is_read_timeout(error: BaseException) -> bool:
    from .http import library

    return isinstance(error, library().ReadTimeout)


def _is_transport_error(error: BaseException) -> bool:
    from .http import library

    return isinstance(error, library().HTTPError)
