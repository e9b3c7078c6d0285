"""The embedded OpenAI-compatible backend: one engine, two fronts.

In-process (no socket)::

    from chatnb import mock
    client = mock.client(reply="Hello!", itl_ms=20)     # an openai.OpenAI
    client.chat.completions.create(model="gpt-4o", messages=[...], stream=True)

Over HTTP (``pip install "chatnb[server]"``): ``chatnb serve`` or :class:`MockServer`.
Both take the same options: :class:`MockOptions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..clients import ClientSpec, Transports
from .app import MockBackend, MockResponse
from .engine import Frame, MockAPIError, MockEngine
from .options import Chunking, Failure, MockOptions, MockOverrides
from .replies import MarkdownSample, Reply, ToolCall, markdown_sample

if TYPE_CHECKING:
    import openai

    from .server import MockServer

__all__ = [
    "BASE_URL",
    "Chunking",
    "Failure",
    "Frame",
    "MarkdownSample",
    "MockAPIError",
    "MockBackend",
    "MockEngine",
    "MockOptions",
    "MockOverrides",
    "MockResponse",
    "MockServer",
    "Reply",
    "ToolCall",
    "async_client",
    "client",
    "client_pair",
    "client_spec",
    "markdown_sample",
]

#: The base URL of in-process clients. Nothing is ever sent there: the transport answers.
BASE_URL = "http://chatnb-mock.invalid/v1"
#: The in-process mock needs no key; the openai client insists on one, so it gets this.
PLACEHOLDER_KEY = "sk-chatnb-mock"


def client_spec(
    options: MockOptions | None = None,
    *,
    api_key: str | None = None,
    max_retries: int = 2,
    timeout: float | None = 60.0,
    strict: bool = False,
) -> ClientSpec:
    """The spec of openai clients answered in-process by one mock engine.

    With ``api_key``, the mock checks the key as the real API does (and the clients send it).
    ``strict`` turns on the openai client's strict validation of responses.
    """
    from .transport import AsyncMockTransport, MockTransport

    backend = MockBackend(MockEngine(options=options or MockOptions()), api_key=api_key)
    return ClientSpec(
        api_key=api_key or PLACEHOLDER_KEY,
        base_url=BASE_URL,
        timeout=timeout,
        max_retries=max_retries,
        transports=Transports(MockTransport(backend), AsyncMockTransport(backend)),
        strict=strict,
    )


def _spec(reply: Reply, settings: dict[str, Any]) -> ClientSpec:
    options, rest = MockOptions.split(reply=reply, **settings)
    return client_spec(options, **rest)


def client(reply: Reply = "echo", **settings: Any) -> openai.OpenAI:
    """An ``openai.OpenAI`` client answered in-process by the mock.

    ``settings`` are :class:`MockOptions`' fields (``chunking``, ``ttft_ms``, ``itl_ms``,
    ``jitter_ms``, ``failure``, ``seed``) and :func:`client_spec`'s (``api_key``,
    ``max_retries``, ``timeout``, ``strict``).
    """
    return _spec(reply, settings).sync()


def async_client(reply: Reply = "echo", **settings: Any) -> openai.AsyncOpenAI:
    """An ``openai.AsyncOpenAI`` client answered in-process by the mock (as :func:`client`)."""
    return _spec(reply, settings).asynchronous()


def client_pair(reply: Reply = "echo", **settings: Any) -> tuple[openai.OpenAI, openai.AsyncOpenAI]:
    """A sync and an async client on one mock engine (a scripted reply list is shared)."""
    spec = _spec(reply, settings)
    return spec.sync(), spec.asynchronous()


def __getattr__(name: str) -> Any:
    if name == "MockServer":  # needs the `server` extra: imported only when asked for
        from .server import MockServer

        return MockServer
    raise AttributeError(f"module 'chatnb.mock' has no attribute {name!r}")
