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
import hashlib
import itertools
import json
import random
import re
import string
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..schema import (
    ChatCompletionRequest,
    ChatCompletionResponse,
    ErrorDetail,
    ErrorResponse,
    FinishReason,
    to_json,
)
from ..tokens import Tokenizer, count_tokens, encoding_for, known_limits
from . import chat_completions, responses
from .answers import PlannedCall, decide
from .api_error import MockAPIError
from .conversation import check_conversation
from .options import Chunking, Failure, MockOptions, MockOverrides
from .plan import AnswerPlan, CallPlan, ChoicePlan, Reasoning, Step, Text, ToolCalls
from .replies import ReplySource

__all__ = ["Frame", "MockAPIError", "MockEngine"]


@dataclass(frozen=True, slots=True)
class Frame:
    """Bytes to send after ``delay_s`` seconds; ``data=None`` means: drop the connection."""

    delay_s: float
    data: bytes | None


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
#: Stored responses the mock remembers for ``previous_response_id`` (the oldest go first).
_STORED_RESPONSES = 1000


class MockEngine:
    """Answers chat-completion requests the way the real API does, from a scripted reply.

    ``MockEngine(reply, **options)`` or ``MockEngine(options=MockOptions(...))``; the options
    are :class:`~chatnb.mock.MockOptions`' fields.
    """

    def __init__(
        self, reply: Any = "echo", *, options: MockOptions | None = None, **fields: Any
    ) -> None:
        self.options = options if options is not None else MockOptions(reply=reply, **fields)
        self.replies = ReplySource(self.options.reply)
        self._random = random.Random(self.options.seed)
        self._failures_served: Counter[str] = Counter()
        self._lock = threading.Lock()
        #: Stored Responses API answers: id -> the conversation up to and with the answer.
        self.responses: dict[str, list[dict[str, Any]]] = {}

    def __repr__(self) -> str:
        return f"MockEngine({self.replies!r})"

    # --- planning ---

    @staticmethod
    def overrides(request: ChatCompletionRequest) -> MockOverrides:
        """The request's ``mock`` settings (``extra_body={"mock": {...}}``)."""
        extra = (request.model_extra or {}).get("mock")
        return MockOverrides.model_validate(extra or {})

    def _failure_for(self, options: MockOptions) -> Failure | None:
        failure = options.failure
        if failure is None:
            return None
        key = failure.model_dump_json()
        if failure.every is not None:
            with self._lock:
                self._failures_served[key] += 1
                if self._failures_served[key] % failure.every:
                    return None
        elif failure.times is not None:
            with self._lock:
                if self._failures_served[key] >= failure.times:
                    return None
                self._failures_served[key] += 1
        return failure

    def _check(self, request: ChatCompletionRequest, failure: Failure | None) -> int:
        """Fail as the API would; returns the prompt's token count."""
        if failure is not None and failure.status is not None:
            raise _injected(failure)
        check_conversation(request.messages)
        prompt_tokens = count_tokens(request.messages, request.model, request.tools)
        known = known_limits(request.model)
        window = known.context_window if known is not None else None
        if window is not None and prompt_tokens + (request.output_limit or 0) > window:
            raise _too_long(window, prompt_tokens, request.output_limit or 0)
        return prompt_tokens

    def _plan(
        self, request: ChatCompletionRequest, options: MockOptions, prompt_tokens: int
    ) -> AnswerPlan:
        """Each choice's reasoning and text, cut at stop sequences and the output limit."""
        tokenizer = encoding_for(request.model)
        source = self.replies if options.reply is self.options.reply else ReplySource(options.reply)
        reasoning: tuple[Step, ...] = ()
        if options.reasoning:
            pieces = _pieces(options.reasoning, options.chunking, tokenizer)
            reasoning = (Reasoning(tuple(pieces), options.reasoning_dialect),)
        choices = []
        for _ in range(request.n or 1):
            answer = decide(request, source.answer(request))
            if isinstance(answer, list):
                step: Step = _tool_calls(answer, len(request.messages), options.chunking, tokenizer)
                finish: FinishReason = "tool_calls"
            else:
                text, finish = _limited(answer, request, tokenizer)
                step = Text(tuple(_pieces(text, options.chunking, tokenizer)))
            choices.append(ChoicePlan((*reasoning, step), finish))
        thinking = tokenizer.count(options.reasoning) * len(choices) if options.reasoning else 0
        answers = sum(tokenizer.count(choice.text + choice.arguments) for choice in choices)
        cached = min(options.cached_tokens, prompt_tokens)
        return AnswerPlan(
            request.model, tuple(choices), prompt_tokens, answers + thinking, thinking, cached
        )

    # --- answering ---

    def complete(
        self, request: ChatCompletionRequest, overrides: MockOverrides | None = None
    ) -> tuple[float, ChatCompletionResponse]:
        """A non-streamed answer, and how long the real API would have taken to send it.

        ``overrides`` are the request's ``mock`` settings when the caller already parsed them.
        """
        options = self.options.overridden(overrides or self.overrides(request))
        plan = self._plan(request, options, self._check(request, self._failure_for(options)))
        deltas = max(choice.pieces for choice in plan.choices)  # as long as the stream would take
        delay_ms = options.ttft_ms + options.itl_ms * max(0, deltas - 1)
        return delay_ms / 1000, chat_completions.completion(plan)

    def stream(
        self, request: ChatCompletionRequest, overrides: MockOverrides | None = None
    ) -> Iterator[Frame]:
        """The frames of a streamed answer. Raises :class:`MockAPIError` before the stream."""
        options = self.options.overridden(overrides or self.overrides(request))
        failure = self._failure_for(options)
        plan = self._plan(request, options, self._check(request, failure))
        include_usage = bool(request.stream_options and request.stream_options.include_usage)
        frames = chat_completions.stream_frames(plan, include_usage=include_usage)
        return self._timed(frames, options, failure)

    def respond(
        self, request: ChatCompletionRequest, body: dict[str, Any]
    ) -> tuple[float, dict[str, Any]]:
        """A whole Responses API ``response`` (``body``: the Responses request, ``request``:
        the same conversation read as Chat Completions)."""
        options = self.options.overridden(self.overrides(request))
        plan = self._plan(request, options, self._check(request, self._failure_for(options)))
        delay_ms = options.ttft_ms + options.itl_ms * max(0, plan.choices[0].pieces - 1)
        whole = responses.response(plan, body, encrypted=_encrypted(body))
        self._store(request, plan, whole["id"], body)
        return delay_ms / 1000, whole

    def respond_stream(
        self, request: ChatCompletionRequest, body: dict[str, Any]
    ) -> Iterator[Frame]:
        """The ``response.*`` events of a streamed Responses API answer."""
        options = self.options.overridden(self.overrides(request))
        failure = self._failure_for(options)
        plan = self._plan(request, options, self._check(request, failure))
        frames = responses.stream_frames(plan, body, encrypted=_encrypted(body))
        first = next(frames)  # response.created: its id is the response's
        self._store(
            request, plan, json.loads(first[1].split(b"data: ", 1)[1])["response"]["id"], body
        )
        return self._timed(itertools.chain([first], frames), options, failure, responses=True)

    def _store(
        self, request: ChatCompletionRequest, plan: AnswerPlan, key: str, body: dict[str, Any]
    ) -> None:
        """Keep a stored response's conversation, for a later ``previous_response_id``."""
        if body.get("store", True) is not False:
            answer = chat_completions.completion(plan).choices[0].message
            messages = [m.model_dump(exclude_none=True) for m in request.messages]
            with self._lock:
                self.responses[key] = [*messages, answer.model_dump(exclude_none=True)]
                while len(self.responses) > _STORED_RESPONSES:
                    self.responses.pop(next(iter(self.responses)))

    def _timed(
        self,
        frames: Iterator[tuple[bool, bytes]],
        options: MockOptions,
        failure: Failure | None,
        *,
        responses: bool = False,
    ) -> Iterator[Frame]:
        ttft, itl = options.ttft_ms / 1000, options.itl_ms / 1000
        jitter = options.jitter_ms / 1000
        first = True
        for sent, (is_token, data) in enumerate(frames):
            if failure is not None:
                if sent == failure.error_after:
                    yield Frame(0.0, _error_frame(failure, responses, sent))
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
                delay, first = (ttft if first else itl), False
                if jitter and delay:
                    delay = max(0.0, delay + self._random.uniform(-jitter, jitter))
            yield Frame(delay, data)
        if not responses and (failure is None or not failure.no_done):
            yield Frame(0.0, b"data: [DONE]\n\n")


def _injected(failure: Failure) -> MockAPIError:
    assert failure.status is not None
    kind, code, message = _STATUS_ERRORS[failure.status]
    headers = {}
    if failure.retry_after_s is not None:
        headers = {
            "retry-after": str(max(1, round(failure.retry_after_s))),
            "retry-after-ms": str(round(failure.retry_after_s * 1000)),
        }
    return MockAPIError(
        failure.status, failure.message or message, type=kind, code=code, headers=headers
    )


def _too_long(window: int, prompt_tokens: int, output_limit: int) -> MockAPIError:
    return MockAPIError(
        400,
        f"This model's maximum context length is {window} tokens. However, you "
        f"requested {prompt_tokens + output_limit} tokens ({prompt_tokens} in the messages, "
        f"{output_limit} in the completion). Please reduce the length of the messages or "
        "completion.",
        type="invalid_request_error",
        code="context_length_exceeded",
        param="messages",
    )


def _encrypted(body: dict[str, Any]) -> bool:
    """Whether the reasoning comes back encrypted (``include`` asks for it)."""
    return "reasoning.encrypted_content" in (body.get("include") or [])


def _error_frame(failure: Failure, responses_api: bool = False, sequence: int = 0) -> bytes:
    message = failure.message or "The server had an error while streaming."
    if responses_api:
        return responses.error_frame(message, sequence)
    detail = ErrorDetail(
        message=message,
        type="server_error",
        param=None,
        code=None,
    )
    return b"data: " + to_json(ErrorResponse(error=detail)).encode() + b"\n\n"


def _limited(
    text: str, request: ChatCompletionRequest, tokenizer: Tokenizer
) -> tuple[str, FinishReason]:
    """``text`` cut at the first stop sequence and at the output limit, and how it ends."""
    cuts = [text.find(s) for s in request.stop_sequences if s and s in text]
    if cuts:
        text = text[: min(cuts)]
    limit = request.output_limit
    if limit is not None:
        tokens = _token_pieces(tokenizer, text)
        if len(tokens) > limit:
            return "".join(tokens[:limit]), "length"
    return text, "stop"


def _tool_calls(
    calls: list[PlannedCall], round_: int, chunking: Chunking, tokenizer: Tokenizer
) -> ToolCalls:
    return ToolCalls(
        tuple(
            CallPlan(
                _call_id(round_, number, call),
                call.name,
                tuple(_pieces(call.arguments, chunking, tokenizer)),
            )
            for number, call in enumerate(calls)
        )
    )


def _call_id(round_: int, number: int, call: PlannedCall) -> str:
    """An id like the API's (``call_`` and 24 letters and digits), unique within a
    conversation and the same on every run, so that notebooks and caches are reproducible."""
    digest = hashlib.sha256(f"{round_}|{number}|{call.name}|{call.arguments}".encode()).digest()
    value = int.from_bytes(digest, "big")
    alphabet = string.ascii_letters + string.digits
    letters = []
    for _ in range(24):
        value, digit = divmod(value, len(alphabet))
        letters.append(alphabet[digit])
    return "call_" + "".join(letters)


def _pieces(text: str, chunking: Chunking, tokenizer: Tokenizer) -> list[str]:
    if chunking == "tokens":
        return _token_pieces(tokenizer, text)
    return list(text) if chunking == "chars" else _WORD.findall(text)


@functools.lru_cache(maxsize=64)
def _token_pieces(tokenizer: Tokenizer, text: str) -> list[str]:
    """Demo and benchmark answers repeat: tokenize each one once."""
    return tokenizer.pieces(text)
