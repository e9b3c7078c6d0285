"""Errors in plain words: what happened, what is kept, and what to do next.

The Chatbot hands every failure of an ask here. Server messages are passed on, but never a
secret: every text goes through the client's :class:`~chatnb.redaction.Secrets` (its key,
credential headers, URL credentials, and anything shaped like a key).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from .errors import (
    APIConnectionError,
    APIRequestError,
    APITimeoutError,
    ArgumentError,
    AuthenticationError,
    BadRequestError,
    ChatnbError,
    ConnectionDroppedError,
    ContextLengthError,
    NotFoundError,
    OptionError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamError,
    shorten,
)
from .options import known_options
from .redaction import Secrets, redact_url

if TYPE_CHECKING:
    import openai

__all__ = [
    "Where",
    "batch_not_reached",
    "batch_of_another_plan",
    "checked_prompt",
    "explain",
    "in_variant",
    "not_a_batch_id",
    "not_a_variant",
    "page_not_stream",
]


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
        return _status_error(error, where, kept)
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


def _status_error(error: openai.APIStatusError, where: Where, kept: str) -> APIRequestError:
    """The chatnb error of an HTTP refusal: in the server's words when it answered as an
    OpenAI-compatible server does, else saying that it does not look like one."""
    redact, status, code = where.secrets.redact, error.status_code, _error_code(error)
    param = getattr(error, "param", None)
    param = None if param is None else redact(str(param))
    foreign = _foreign_body(error)
    if foreign is not None:
        message = _foreign_explanation(status, where, redact(foreign))
    else:
        message = _status_explanation(error, where, redact(_server_message(error)), param)
    kind = _status_error_class(status, code)
    return kind(message + kept, status=status, code=code, param=param)


#: Refusals a random web server gives to a POST it does not serve (with JSON of its own).
_NOT_SERVED = frozenset({403, 404, 405})


def _foreign_body(error: openai.APIStatusError) -> str | None:
    """What a refusal (4xx) carried instead of an OpenAI error (an HTML page, text, JSON of
    another shape), in a few words; ``None`` when it is an error as OpenAI-compatible servers
    send them (``{"error": {"message": ...}}``, ``{"error": "..."}``, ``{"message": ...}``)."""
    from .openai_private import library

    status = error.status_code
    if not 400 <= status < 500 or status in (408, 429):
        return None
    try:
        text = error.response.text.strip()
    except library().ResponseNotRead:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return _describe_text(text)
    inner = document.get("error", document) if isinstance(document, dict) else None
    if isinstance(inner, str) or (isinstance(inner, dict) and "message" in inner):
        return None
    return f"JSON of another shape ({shorten(text, 80)})" if status in _NOT_SERVED else None


def _describe_text(text: str) -> str:
    if not text:
        return "an empty body"
    if text.startswith("<"):
        title = _TITLE.search(text)
        named = title.group(1).strip() if title else ""
        return f"an HTML page ({named!r})" if named else "an HTML page"
    return f"text ({shorten(text, 80)!r})"


_TITLE = re.compile(r"<title[^>]*>([^<]{0,80})", re.I)


def _foreign_explanation(status: int, where: Where, found: str) -> str:
    return (
        f"The server at {where.base_url} answered {status} with {found}, not an OpenAI error: "
        "it does not look like an OpenAI-compatible API at this URL. Check base_url: it is "
        f"the API's root, which ends in /v1 on most servers{_v1_hint(where.base_url)}."
    )


def page_not_stream(content_type: str, where: Where) -> APIRequestError:
    """A web page (``content_type``) where a stream of chunks was asked for."""
    return APIRequestError(
        f"The server at {where.base_url} answered with a web page ({content_type}), not a "
        "stream of chat completion chunks: it does not look like an OpenAI-compatible API at "
        f"this URL. Check base_url: it is the API's root, which ends in /v1 on most servers"
        f"{_v1_hint(where.base_url)}. The question was not added to the history.",
        status=200,
    )


def _v1_hint(base_url: str) -> str:
    """A base URL to try: the server's root with /v1, when the URL has no path."""
    parts = urlsplit(base_url)
    if parts.path.strip("/"):
        return " (as in http://localhost:8000/v1)"
    return f" (try base_url={urlunsplit(parts._replace(path='/v1'))!r})"


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


def _status_explanation(
    error: openai.APIStatusError, where: Where, message: str, param: str | None
) -> str:
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
            f"{where.base_url}.{said} Check the model name and the base URL"
            f"{_v1_hint(where.base_url) if not urlsplit(where.base_url).path.strip('/') else ''}."
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
        return f"The server rejected the request (400 Bad Request){_naming(param)}.{said}" + (
            f" Check the value given for {param}= (to the Chatbot, or to ask)."
            if param in known_options()
            else ""
        )
    if status >= 500:
        return (
            f"The server failed ({status}) and still failed {retries}.{said} "
            "This is on the server's side: try again in a moment."
        )
    return f"The server refused the request ({status}).{said}"


def _naming(param: str | None) -> str:
    return f", naming {param!r}" if param else ""


def _is_read_timeout(error: BaseException) -> bool:
    from .openai_private import library

    return isinstance(error, library().ReadTimeout)


def _is_transport_error(error: BaseException) -> bool:
    from .openai_private import library

    return isinstance(error, library().HTTPError)


# --- a call chatnb cannot take --------------------------------------------------------------


def checked_prompt(prompt: object) -> None:
    """Nothing if ``prompt`` is a question ask can send (a str, or a list of content parts as
    the API takes them: text and images); else an :class:`ArgumentError` that says so."""
    if isinstance(prompt, str):
        return
    if (
        isinstance(prompt, list)
        and prompt
        and all(isinstance(part, dict) and isinstance(part.get("type"), str) for part in prompt)
    ):
        return
    raise ArgumentError(
        f"ask() takes the question as a str, not {_what(prompt)}: bot.ask('What is 6 x 7?'), "
        f"or bot.ask(str(x)) to ask about a value. A question with images is a list of content "
        "parts: [{'type': 'text', 'text': ...}, {'type': 'image_url', 'image_url': {'url': ...}}]."
    )


def _what(value: object) -> str:
    if value is None:
        return "None"
    if isinstance(value, list | tuple):
        return f"a {type(value).__name__} of {len(value)} items that are not all content parts"
    name = type(value).__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name} ({shorten(repr(value), 40)})"


_VARIANT = (
    "A variant is a dict of what changes: 'name', a Chatbot setting ('system', 'model', "
    "'tools', ...) or a request option ('temperature', ...); or a Chatbot of its own."
)


def in_variant(number: int, error: OptionError) -> OptionError:
    """``error`` (a key no variant takes) said of variant ``number`` (counted from 1)."""
    return OptionError(f"Variant {number}: {error} {_VARIANT}")


def not_a_variant(number: int, variant: object) -> ArgumentError:
    """Variant ``number`` is neither a mapping nor a Chatbot."""
    return ArgumentError(
        f"Variant {number} is {_what(variant)}. {_VARIANT} For example "
        "[{'name': 'short', 'system': 'Be brief.'}, {'model': 'gpt-4o', 'temperature': 0}]."
    )


# --- an experiment's batch -------------------------------------------------------------------


def batch_not_reached(
    batch_id: str, base_url: str, error: BaseException, *, running: bool = False
) -> ChatnbError:
    """The Batch API could not give batch ``batch_id`` back (unknown id, no server)."""
    import openai

    status = getattr(error, "status_code", None)
    said = _server_message(error) if isinstance(error, openai.APIStatusError) else str(error)
    said = Secrets().redact(shorten(said, 200))
    where = redact_url(base_url)
    if status == 404:
        what = f"The server at {where} has no batch {batch_id!r} (404: {said})."
        then = " Check the id: it is the one the progress line showed (results.batch_id)."
    else:
        what = f"Could not ask the server at {where} about batch {batch_id!r} ({said})."
        then = ""
    if running:
        then = f" The batch goes on without us: resume with batch_id={batch_id!r}."
    return ChatnbError(what + then)


def batch_of_another_plan(batch_id: str, total: int, jobs: int) -> ChatnbError:
    """Batch ``batch_id`` was started from other inputs or variants than the resume's."""
    counted = f" ({total:,} requests; these inputs and variants make {jobs:,})" if total else ""
    return ChatnbError(
        f"Batch {batch_id!r} was started from other inputs, variants, template or repeats than "
        f"these{counted}: its answers would be matched to the wrong rows. Resume it with the "
        "same arguments it was started with, or leave out batch_id to start a new batch."
    )


def not_a_batch_id(batch_id: object) -> ChatnbError:
    """``batch_id`` names no batch: not an id's characters, or the server's answer is none."""
    return ChatnbError(
        f"batch_id={shorten(repr(batch_id), 80)} is not the id of a batch (ids are letters, "
        "digits and _-.:, like 'batch_abc123'). Pass the one the progress line showed "
        "(results.batch_id)."
    )
