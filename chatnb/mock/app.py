"""The mock's HTTP semantics, written once for both fronts.

:class:`MockBackend` takes a method, a path, headers and a body, and returns a
:class:`MockResponse`: the status, headers, and either a whole body or the engine's timed
frames. The in-process transport and the HTTP server only copy that onto their own wire, so the
two fronts cannot drift apart.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..schema import ChatCompletionRequest, ErrorDetail, ErrorResponse, to_json
from ..tokens import MODEL_LIMITS
from ..wire.responses import ResponsesRequest, chat_request_of, messages_of
from .batches import BatchAPI
from .engine import Frame, MockAPIError, MockEngine

__all__ = ["MockBackend", "MockResponse"]

_JSON = ("content-type", "application/json")
_SSE = [
    ("content-type", "text/event-stream; charset=utf-8"),
    ("cache-control", "no-cache"),
    ("x-accel-buffering", "no"),
]
#: The largest request body the mock reads (OpenAI refuses bodies far smaller than a GPU's
#: worth of text too); a bigger one is answered 413.
MAX_BODY_BYTES = 32 * 2**20
CHAT_PATHS = frozenset({"/v1/chat/completions"})
RESPONSES_PATHS = frozenset({"/v1/responses"})
MODEL_PATHS = frozenset({"/v1/models"})
_BATCH_ROOTS = ("files", "batches")
#: The API's own paths, which a real server answers only under /v1: a base URL without it
#: works nowhere, so the mock does not let it work here either.
_API_ROOTS = frozenset({"chat", "responses", "models", *_BATCH_ROOTS})


@dataclass
class MockResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    #: Streamed answers: frames to send, each after its delay.
    frames: Iterator[Frame] | None = None
    #: Non-streamed answers: how long the real API would have taken.
    delay_s: float = 0.0


def _error(
    status: int,
    message: str,
    *,
    type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> MockResponse:
    body = ErrorResponse(error=ErrorDetail(message=message, type=type, param=param, code=code))
    return MockResponse(status, [_JSON, *(headers or {}).items()], to_json(body).encode())


def _param(location: tuple[int | str, ...]) -> str | None:
    """``("messages", 0, "content")`` -> ``"messages[0].content"``, as the API names params."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or None


def _invalid(invalid: ValidationError, within: tuple[str, ...] = ()) -> MockResponse:
    first = invalid.errors(include_url=False)[0]
    location = (*within, *first["loc"])
    return _error(400, f"Invalid request: {first['msg']}.", param=_param(location))


def _unversioned(method: str, path: str) -> MockResponse:
    """404 for a path outside /v1, as a real server answers it; with a hint when it is one of
    the API's own paths (a base URL that forgot its /v1)."""
    hint = ""
    if path.strip("/").split("/")[0] in _API_ROOTS:
        hint = (
            f" The API is served under /v1: end the base URL with /v1 ({method} /v1{path}), as "
            "every OpenAI-compatible server expects."
        )
    return _error(404, f"Invalid URL ({method} {path}).{hint}", code="unknown_url")


def _json(body: bytes) -> Any:
    """The request's JSON, or the 400 the API answers a body that is not JSON with."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return _error(
            400,
            "We could not parse the JSON body of your request. The body must be a JSON object.",
        )


def _api_error(failure: MockAPIError) -> MockResponse:
    error = failure.body.error
    return _error(
        failure.status,
        error.message,
        type=error.type or "invalid_request_error",
        param=error.param,
        code=error.code if isinstance(error.code, str) else None,
        headers=failure.headers,
    )


class MockBackend:
    """The mock OpenAI API: routing, authentication, validation and errors around an engine."""

    def __init__(self, engine: MockEngine | None = None, *, api_key: str | None = None) -> None:
        self.engine = engine or MockEngine()
        self.batches = BatchAPI(self.engine)
        self._api_key = api_key

    def __repr__(self) -> str:
        # The key is a secret: say whether one is set, never what it is.
        return f"MockBackend(engine={self.engine!r}, api_key={'set' if self._api_key else 'none'})"

    def handle(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        size: int | None = None,
    ) -> MockResponse:
        """Answer one request (``size``: the body's length, when the front read past the
        limit and kept none of it)."""
        path = path.split("?", 1)[0].rstrip("/") or "/"
        if (size if size is not None else len(body)) > MAX_BODY_BYTES:
            return _error(
                413,
                f"The request body is {size or len(body):,} bytes; the limit is "
                f"{MAX_BODY_BYTES:,}.",
                code="request_too_large",
            )
        if path == "/health":
            return MockResponse(200, [_JSON], b'{"status":"ok"}')
        if not path.startswith("/v1/"):
            return _unversioned(method, path)
        parts = path.removeprefix("/v1").strip("/").split("/")
        batch_route = parts[0] in _BATCH_ROOTS
        if path not in CHAT_PATHS | MODEL_PATHS | RESPONSES_PATHS and not batch_route:
            return _error(404, f"Invalid URL ({method} {path}).", code="unknown_url")
        if not self._authorized(headers):
            return _error(
                401,
                "Incorrect API key provided. The mock server was started with --api-key; "
                "send that key as a Bearer token.",
                code="invalid_api_key",
            )
        if batch_route:
            return self._batch_route(method, parts, headers, body)
        if path in MODEL_PATHS:
            if method != "GET":
                return _error(405, f"Use GET for {path}.", code="method_not_allowed")
            return MockResponse(200, [_JSON], json.dumps(self._models()).encode())
        if method != "POST":
            return _error(405, f"Use POST for {path}.", code="method_not_allowed")
        return self._responses(body) if path in RESPONSES_PATHS else self._chat(body)

    def _batch_route(
        self, method: str, parts: list[str], headers: Mapping[str, str], body: bytes
    ) -> MockResponse:
        """``/v1/files[/{id}[/content]]`` and ``/v1/batches[/{id}[/cancel]]``."""
        api, route = self.batches, (method, parts[0], len(parts), parts[-1])
        try:
            if route[:3] == ("POST", "files", 1):
                found: Any = api.upload(headers.get("content-type", ""), body)
            elif route[:3] == ("GET", "files", 1):
                found = api.list_files()
            elif route[:3] == ("GET", "files", 2):
                found = api.file(parts[1]).object()
            elif route == ("GET", "files", 3, "content"):
                content = api.file(parts[1]).content
                return MockResponse(200, [("content-type", "application/octet-stream")], content)
            elif route[:3] == ("POST", "batches", 1):
                found = api.create(json.loads(body or b"{}"))
            elif route[:3] == ("GET", "batches", 1):
                found = api.list_batches()
            elif route[:3] == ("GET", "batches", 2):
                found = api.retrieve(parts[1])
            elif route == ("POST", "batches", 3, "cancel"):
                found = api.cancel(parts[1])
            else:
                return _error(404, f"Unknown path {'/'.join(parts)!r}.", code="unknown_url")
        except MockAPIError as failure:
            return _error(
                failure.status, failure.body.error.message, param=failure.body.error.param
            )
        except (ValueError, RecursionError):
            return _error(400, "We could not parse the JSON body of your request.")
        return MockResponse(200, [_JSON], json.dumps(found).encode())

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        if self._api_key is None:
            return True
        scheme, _, token = headers.get("authorization", "").partition(" ")
        # The scheme is case-insensitive (RFC 9110): "bearer" is as good as "Bearer".
        matches = hmac.compare_digest(token.strip().encode(), self._api_key.encode())
        return scheme.lower() == "bearer" and matches

    @staticmethod
    def _models() -> dict[str, Any]:
        created = int(time.time())
        models = [
            {"id": name, "object": "model", "created": created, "owned_by": "chatnb-mock"}
            for name in MODEL_LIMITS
        ]
        return {"object": "list", "data": models}

    def _chat(self, body: bytes) -> MockResponse:
        payload = _json(body)
        if isinstance(payload, MockResponse):
            return payload
        try:
            request = ChatCompletionRequest.model_validate(payload)
        except ValidationError as invalid:
            return _invalid(invalid)
        except RecursionError:
            return _error(400, "The request is nested too deeply to be read.")
        try:
            overrides = MockEngine.overrides(request)
        except ValidationError as invalid:
            return _invalid(invalid, within=("mock",))
        try:
            if request.stream:
                frames = self.engine.stream(request, overrides)
                return MockResponse(200, list(_SSE), frames=frames)
            delay, response = self.engine.complete(request, overrides)
        except MockAPIError as failure:
            return _api_error(failure)
        return MockResponse(200, [_JSON], to_json(response).encode(), delay_s=delay)

    def _responses(self, body: bytes) -> MockResponse:
        """``POST /v1/responses``: the conversation read as Chat Completions, answered by the
        same engine, written back in the Responses API's wire format."""
        payload = _json(body)
        if isinstance(payload, MockResponse):
            return payload
        try:
            request = ResponsesRequest.model_validate(payload)
            earlier = self._earlier(request.previous_response_id)
            if isinstance(earlier, MockResponse):
                return earlier
            chat = ChatCompletionRequest.model_validate(
                chat_request_of(request, messages_of(request, earlier))
            )
            MockEngine.overrides(chat)
        except ValidationError as invalid:
            return _invalid(invalid)
        except ValueError as unreadable:  # an input item the mock cannot read
            return _error(400, f"Invalid input: {unreadable}.", param="input")
        except RecursionError:
            return _error(400, "The request is nested too deeply to be read.")
        try:
            if request.stream:
                return MockResponse(
                    200, list(_SSE), frames=self.engine.respond_stream(chat, payload)
                )
            delay, whole = self.engine.respond(chat, payload)
        except MockAPIError as failure:
            return _api_error(failure)
        return MockResponse(200, [_JSON], json.dumps(whole).encode(), delay_s=delay)

    def _earlier(self, response_id: str | None) -> list[dict[str, Any]] | MockResponse:
        if response_id is None:
            return []
        stored = self.engine.responses.get(response_id)
        if stored is None:
            return _error(
                404,
                f"Previous response with id '{response_id}' not found.",
                param="previous_response_id",
            )
        return stored
