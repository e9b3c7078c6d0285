"""The mock's engine: a validated request in, exactly what the real API would send out.

The engine knows nothing of HTTP frameworks. For a streamed answer it returns
:class:`Frame` objects, each the bytes of one ``data:`` frame and the delay before it (time to
first token, inter-token latency, jitter), so that the in-process transport and the HTTP server
send the same bytes at the same moments. Failures are part of the plan: an HTTP error before
the stream (:class:`MockAPIError`), an error frame, a malformed frame, a dropped connection
(a frame whose ``data`` is ``None``), a stream cut short or without ``[DONE]``.
"""

from __future__ import annotations

import functools
import json
import random
import re
import secrets
import string
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..schema import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatMessage,
    Choice,
    ChunkChoice,
    Delta,
    ErrorDetail,
    ErrorResponse,
    FinishReason,
    Usage,
    to_json,
)
from ..tokens import Tokenizer, count_tokens, encoding_for, known_limits
from .replies import Reply, ReplySource

__all__ = ["Chunking", "Failure", "Frame", "MockAPIError", "MockEngine", "MockOverrides"]

Chunking = Literal["tokens", "words", "chars"]
FINGERPRINT = "fp_chatnb_mock"


class Failure(BaseModel):
    """A failure to inject, per server or per request (``extra_body={"mock": {"failure": …}}``).

    ``status`` fails the request before the stream; the ``*_after`` fields act after that many
    frames; ``times`` limits the failure to the first N requests that carry it (so a client's
    retries can be seen succeeding).
    """

    model_config = ConfigDict(extra="forbid")

    status: Literal[400, 401, 403, 404, 429, 500, 502, 503] | None = None
    message: str | None = None
    retry_after_s: float | None = Field(default=None, ge=0)
    error_after: int | None = Field(default=None, ge=0)
    malformed_after: int | None = Field(default=None, ge=0)
    disconnect_after: int | None = Field(default=None, ge=0)
    truncate_after: int | None = Field(default=None, ge=0)
    no_done: bool = False
    times: int | None = Field(default=None, ge=1)


class MockOverrides(BaseModel):
    """Per-request settings, sent as ``extra_body={"mock": {...}}``."""

    model_config = ConfigDict(extra="forbid")

    reply: str | list[str] | None = None
    chunking: Chunking | None = None
    ttft_ms: float | None = Field(default=None, ge=0)
    itl_ms: float | None = Field(default=None, ge=0)
    jitter_ms: float | None = Field(default=None, ge=0)
    failure: Failure | None = None


@dataclass(frozen=True, slots=True)
class Frame:
    """Bytes to send after ``delay_s`` seconds; ``data=None`` means: drop the connection."""

    delay_s: float
    data: bytes | None


class MockAPIError(Exception):
    """The request fails with an HTTP error before any answer is sent."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = ErrorResponse(
            error=ErrorDetail(message=message, type=type, param=param, code=code)
        )
        self.headers = headers or {}


_STATUS_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "The request was rejected (injected by the mock)."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Access denied."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests (injected by the mock).",
    ),
    500: ("server_error", None, "The server had an error while processing your request."),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The server is overloaded or not ready yet."),
}
_WORD = re.compile(r"\s*\S+\s*|\s+")


def _chunk_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "chatcmpl-" + "".join(secrets.choice(alphabet) for _ in range(29))


class MockEngine:
    """Answers chat-completion requests the way the real API does, from a scripted reply."""

    def __init__(
        self,
        reply: Reply = "echo",
        *,
        chunking: Chunking = "tokens",
        ttft_ms: float = 0.0,
        itl_ms: float = 0.0,
        jitter_ms: float = 0.0,
        failure: Failure | dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> None:
        self.replies = ReplySource(reply)
        self.chunking: Chunking = chunking
        self.ttft_ms, self.itl_ms, self.jitter_ms = ttft_ms, itl_ms, jitter_ms
        self.failure = Failure.model_validate(failure) if isinstance(failure, dict) else failure
        self._random = random.Random(seed)
        self._failures_served: Counter[str] = Counter()
        self._lock = threading.Lock()

    # --- planning ---

    def _failure_for(self, overrides: MockOverrides) -> Failure | None:
        failure = overrides.failure or self.failure
        if failure is None:
            return None
        if failure.times is not None:
            key = failure.model_dump_json()
            with self._lock:
                if self._failures_served[key] >= failure.times:
                    return None
                self._failures_served[key] += 1
        return failure

    @staticmethod
    def overrides(request: ChatCompletionRequest) -> MockOverrides:
        extra = (request.model_extra or {}).get("mock")
        return MockOverrides.model_validate(extra or {})

    def _check(self, request: ChatCompletionRequest, failure: Failure | None) -> int:
        """Fail as the API would; returns the prompt's token count."""
        if failure is not None and failure.status is not None:
            kind, code, message = _STATUS_ERRORS[failure.status]
            headers = {}
            if failure.retry_after_s is not None:
                headers = {
                    "retry-after": str(max(1, round(failure.retry_after_s))),
                    "retry-after-ms": str(round(failure.retry_after_s * 1000)),
                }
            raise MockAPIError(
                failure.status, failure.message or message, type=kind, code=code, headers=headers
            )
        prompt_tokens = count_tokens(request.messages, request.model, request.tools)
        known = known_limits(request.model)
        window = known.context_window if known is not None else None
        if window is not None and prompt_tokens + (request.output_limit or 0) > window:
            raise MockAPIError(
                400,
                f"This model's maximum context length is {window} tokens. However, you "
                f"requested {prompt_tokens + (request.output_limit or 0)} tokens "
                f"({prompt_tokens} in the messages, {request.output_limit or 0} in the "
                "completion). Please reduce the length of the messages or completion.",
                type="invalid_request_error",
                code="context_length_exceeded",
                param="messages",
            )
        return prompt_tokens

    def _answers(
        self, request: ChatCompletionRequest, overrides: MockOverrides, tokenizer: Tokenizer
    ) -> list[tuple[str, FinishReason]]:
        source = ReplySource(overrides.reply) if overrides.reply is not None else self.replies
        answers: list[tuple[str, FinishReason]] = []
        for _ in range(request.n or 1):
            text = source.answer(request)
            finish: FinishReason = "stop"
            cuts = [text.find(s) for s in request.stop_sequences if s and s in text]
            if cuts:
                text = text[: min(cuts)]
            limit = request.output_limit
            if limit is not None:
                pieces = _token_pieces(tokenizer, text)
                if len(pieces) > limit:
                    text, finish = "".join(pieces[:limit]), "length"
            answers.append((text, finish))
        return answers

    def _pieces(self, text: str, chunking: Chunking, tokenizer: Tokenizer) -> list[str]:
        if chunking == "chars":
            return list(text)
        if chunking == "words":
            return _WORD.findall(text)
        return _token_pieces(tokenizer, text)

    # --- answering ---

    def complete(
        self, request: ChatCompletionRequest, overrides: MockOverrides | None = None
    ) -> tuple[float, ChatCompletionResponse]:
        """A non-streamed answer, and how long the real API would have taken to send it.

        ``overrides`` are the request's ``mock`` settings when the caller already parsed them.
        """
        overrides = overrides or self.overrides(request)
        prompt_tokens = self._check(request, self._failure_for(overrides))
        tokenizer = encoding_for(request.model)
        answers = self._answers(request, overrides, tokenizer)
        completion_tokens = sum(tokenizer.count(text) for text, _ in answers)
        response = ChatCompletionResponse(
            id=_chunk_id(),
            object="chat.completion",
            created=int(time.time()),
            model=request.model,
            system_fingerprint=FINGERPRINT,
            choices=[
                Choice(
                    index=i,
                    message=ChatMessage(role="assistant", content=text, refusal=None),
                    logprobs=None,
                    finish_reason=finish,
                )
                for i, (text, finish) in enumerate(answers)
            ],
            usage=_usage(prompt_tokens, completion_tokens),
        )
        pieces = max(len(_token_pieces(tokenizer, text)) for text, _ in answers)
        ttft = _pick(overrides.ttft_ms, self.ttft_ms)
        itl = _pick(overrides.itl_ms, self.itl_ms)
        return (ttft + itl * max(0, pieces - 1)) / 1000, response

    def stream(
        self, request: ChatCompletionRequest, overrides: MockOverrides | None = None
    ) -> Iterator[Frame]:
        """The frames of a streamed answer. Raises :class:`MockAPIError` before the stream."""
        overrides = overrides or self.overrides(request)
        failure = self._failure_for(overrides)
        prompt_tokens = self._check(request, failure)
        tokenizer = encoding_for(request.model)
        answers = self._answers(request, overrides, tokenizer)
        chunking = overrides.chunking or self.chunking
        include_usage = bool(request.stream_options and request.stream_options.include_usage)
        frames = self._frames(request, answers, chunking, tokenizer, prompt_tokens, include_usage)
        return self._timed(frames, overrides, failure)

    def _frames(
        self,
        request: ChatCompletionRequest,
        answers: list[tuple[str, FinishReason]],
        chunking: Chunking,
        tokenizer: Tokenizer,
        prompt_tokens: int,
        include_usage: bool,
    ) -> Iterator[tuple[bool, bytes]]:
        """(is this a token frame, its bytes) in the order the API sends them."""
        header: dict[str, Any] = {
            "id": _chunk_id(),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": request.model,
            "system_fingerprint": FINGERPRINT,
        }

        def frame(choices: list[ChunkChoice], usage: Usage | None = None) -> bytes:
            # Only the fields the API sets are set, so that the dump matches its frames.
            fields = {**header, "choices": choices, **({"usage": usage} if usage else {})}
            chunk = ChatCompletionChunk.model_construct(**fields)
            return b"data: " + to_json(chunk).encode() + b"\n\n"

        def content_template(index: int) -> tuple[bytes, bytes]:
            # One chunk is dumped by the model; each token only fills in its content.
            marker = "\x00chatnb\x00"
            data = frame(
                [
                    ChunkChoice(
                        index=index, delta=Delta(content=marker), logprobs=None, finish_reason=None
                    )
                ]
            )
            before, after = data.split(json.dumps(marker).encode())
            return before, after

        templates = [content_template(i) for i in range(len(answers))]
        pieces = [self._pieces(text, chunking, tokenizer) for text, _ in answers]
        for index in range(len(answers)):
            yield (
                True,
                frame(
                    [
                        ChunkChoice(
                            index=index,
                            delta=Delta(role="assistant", content="", refusal=None),
                            logprobs=None,
                            finish_reason=None,
                        )
                    ]
                ),
            )
        for position in range(max((len(p) for p in pieces), default=0)):
            for index, choice_pieces in enumerate(pieces):
                if position < len(choice_pieces):
                    before, after = templates[index]
                    text = json.dumps(choice_pieces[position], ensure_ascii=False).encode()
                    yield True, before + text + after
        for index, (_, finish) in enumerate(answers):
            yield (
                False,
                frame(
                    [ChunkChoice(index=index, delta=Delta(), logprobs=None, finish_reason=finish)]
                ),
            )
        if include_usage:
            completion_tokens = sum(tokenizer.count(text) for text, _ in answers)
            yield False, frame([], _usage(prompt_tokens, completion_tokens))

    def _timed(
        self,
        frames: Iterator[tuple[bool, bytes]],
        overrides: MockOverrides,
        failure: Failure | None,
    ) -> Iterator[Frame]:
        ttft = _pick(overrides.ttft_ms, self.ttft_ms) / 1000
        itl = _pick(overrides.itl_ms, self.itl_ms) / 1000
        jitter = _pick(overrides.jitter_ms, self.jitter_ms) / 1000
        for sent, (is_token, data) in enumerate(frames):
            if failure is not None:
                if sent == failure.error_after:
                    detail = ErrorDetail(
                        message=failure.message or "The server had an error while streaming.",
                        type="server_error",
                        param=None,
                        code=None,
                    )
                    yield Frame(
                        0.0, b"data: " + to_json(ErrorResponse(error=detail)).encode() + b"\n\n"
                    )
                    return
                if sent == failure.malformed_after:
                    yield Frame(0.0, data[: len(data) // 2].rstrip(b"\n") + b"\n\n")
                    failure = failure.model_copy(update={"malformed_after": None})
                if sent == failure.disconnect_after:
                    yield Frame(0.0, None)
                    return
                if sent == failure.truncate_after:
                    return
            delay = 0.0
            if is_token:
                delay = ttft if sent == 0 else itl
                if jitter and delay:
                    delay = max(0.0, delay + self._random.uniform(-jitter, jitter))
            yield Frame(delay, data)
        if failure is None or not failure.no_done:
            yield Frame(0.0, b"data: [DONE]\n\n")


@functools.lru_cache(maxsize=64)
def _token_pieces(tokenizer: Tokenizer, text: str) -> list[str]:
    """Demo and benchmark answers repeat: tokenize each one once."""
    return tokenizer.pieces(text)


def _pick(override: float | None, default: float) -> float:
    return default if override is None else override


def _usage(prompt_tokens: int, completion_tokens: int) -> Usage:
    return Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
    )
