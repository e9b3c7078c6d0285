"""The mock's options, written once.

:class:`MockOptions` is what the engine is built from. Everything else is generated from it or
takes it: the per-request overrides (``extra_body={"mock": {...}}``, :data:`MockOverrides`),
``Chatbot.mock(...)`` and the in-process clients (:meth:`MockOptions.split`), and the flags of
``chatnb serve`` (:func:`add_arguments`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator
from pydantic.fields import FieldInfo

from .plan import ReasoningDialect
from .replies import MarkdownSample, ToolCall

__all__ = [
    "Chunking",
    "Failure",
    "MockOptions",
    "MockOverrides",
    "add_arguments",
    "from_arguments",
]

Chunking = Literal["tokens", "words", "chars"]


class Failure(BaseModel):
    """A failure to inject, per server or per request (``extra_body={"mock": {"failure": …}}``).

    ``status`` fails the request before the stream; the ``*_after`` fields act after that many
    frames; ``times`` limits the failure to the first N requests that carry it (so a client's
    retries can be seen succeeding); ``every`` fails one request in every N (the Nth, the 2Nth,
    ...), a share of the traffic, as a busy provider's 429s.
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
    every: int | None = Field(default=None, ge=1)


class MockOptions(BaseModel):
    """How the mock answers: what, in which pieces, how fast, and how it fails."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    reply: (
        str
        | dict[str, Any]
        | ToolCall
        | list[str | MarkdownSample | dict[str, Any] | ToolCall | list[ToolCall]]
        | MarkdownSample
        | Callable[..., Any]
    ) = Field(
        default="echo",
        description="'echo' (repeat the last user message; call the tools offered; fill in "
        "the JSON schema asked for), 'answer' (a built-in Markdown answer on the question's "
        "topic; tools and schemas as for 'echo'), 'markdown:N' (a Markdown sample of about N "
        "characters), "
        "a fixed text, a list of texts (one per request, cycling), or a function of the "
        "request; scripted entries may be tool calls (ToolCall) or JSON documents (dicts)",
    )
    reasoning: str | None = Field(
        default=None,
        description="answer as a thinking model: this reasoning streams before the answer",
    )
    reasoning_dialect: ReasoningDialect = Field(
        default="reasoning_content",
        description="how the reasoning streams: delta.reasoning_content (DeepSeek), "
        "delta.reasoning (Ollama, vLLM, OpenRouter) or <think> tags in the content",
    )
    cached_tokens: int = Field(
        default=0,
        ge=0,
        description="of the prompt tokens, how many the usage reports as cached (at most all)",
    )
    chunking: Chunking = Field(default="tokens", description="how the answer is cut into deltas")
    ttft_ms: float = Field(default=0.0, ge=0, description="time to first token (ms)")
    itl_ms: float = Field(default=0.0, ge=0, description="inter-token latency (ms)")
    jitter_ms: float = Field(default=0.0, ge=0, description="± random jitter per token (ms)")
    failure: Failure | None = Field(
        default=None, description='a failure to inject, as JSON: \'{"status": 429, "times": 2}\''
    )
    seed: int | None = Field(default=None, description="seed of the jitter's random numbers")
    batch_delay_s: float = Field(
        default=0.0, ge=0, description="seconds a Batch API batch takes to complete"
    )

    @field_validator("reply", mode="before")
    @classmethod
    def _markdown_sample(cls, reply: Any) -> Any:
        if isinstance(reply, str) and reply.startswith("markdown:"):
            return MarkdownSample(length=int(reply.split(":", 1)[1]))
        if isinstance(reply, tuple):
            return list(reply)
        return reply

    @classmethod
    def split(cls, **settings: Any) -> tuple[MockOptions, dict[str, Any]]:
        """The mock's options among ``settings``, and the rest."""
        mine = {k: v for k, v in settings.items() if k in cls.model_fields}
        return cls(**mine), {k: v for k, v in settings.items() if k not in cls.model_fields}

    def overridden(self, overrides: MockOverrides) -> MockOptions:
        """These options with a request's overrides applied (and checked as options are)."""
        changes = overrides.model_dump(exclude_unset=True, exclude_none=True)
        if not changes:
            return self
        return MockOptions(**{**dict(self), **{name: getattr(overrides, name) for name in changes}})


def _per_request(name: str, field: FieldInfo) -> tuple[Any, None]:
    """A field of the per-request overrides: optional, with the option's own constraints."""
    annotation: Any = str | list[str] if name == "reply" else field.annotation
    if field.metadata:
        annotation = Annotated.__class_getitem__((annotation, *field.metadata))  # type: ignore[attr-defined]
    return annotation | None, None


# A request may override every option but the seed, which belongs to the engine (one random
# sequence across requests); a JSON body cannot carry a function, so ``reply`` is text there.
_PER_REQUEST = {
    name: _per_request(name, field)
    for name, field in MockOptions.model_fields.items()
    if name != "seed"
}
MockOverrides: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "MockOverrides", __config__=ConfigDict(extra="forbid"), **_PER_REQUEST
)
MockOverrides.__doc__ = "Per-request mock settings, sent as ``extra_body={'mock': {...}}``."


def _argument_type(annotation: Any) -> dict[str, Any]:
    """argparse settings for a field's type: choices for literals, JSON for models."""
    kind = annotation
    if get_origin(annotation) in (Union, UnionType):  # X | None: the X
        kind = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(kind) is Literal:
        return {"choices": list(get_args(kind))}
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return {"type": json.loads}
    if kind in (int, float):
        return {"type": kind}
    return {"type": str}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per :class:`MockOptions` field (``--ttft-ms``, ...), unset by default."""
    for name, field in MockOptions.model_fields.items():
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            default=argparse.SUPPRESS,
            help=f"{field.description} (default: {field.default!r})",
            **_argument_type(field.annotation),
        )


def from_arguments(namespace: argparse.Namespace) -> MockOptions:
    """The options named on a command line (the rest keep their defaults)."""
    fields = MockOptions.model_fields
    given = {name: getattr(namespace, name) for name in fields if hasattr(namespace, name)}
    return MockOptions(**given)
