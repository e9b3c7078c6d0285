"""The embedded OpenAI-compatible backend: one engine, two fronts.

In-process (no socket)::

    from chatnb import mock
    client = mock.client(reply="Hello!", itl_ms=20)     # an openai.OpenAI
    client.chat.completions.create(model="gpt-4o", messages=[...], stream=True)

Over HTTP (``pip install "chatnb[server]"``): ``chatnb serve`` or :class:`MockServer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .app import MockBackend, MockResponse
from .engine import Chunking, Failure, Frame, MockAPIError, MockEngine, MockOverrides
from .replies import MarkdownSample, Reply, markdown_sample

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
    "MockOverrides",
    "MockResponse",
    "MockServer",
    "Reply",
    "async_client",
    "client",
    "client_pair",
    "markdown_sample",
]

#: The base URL of in-process clients. Nothing is ever sent there: the transport answers.
BASE_URL = "http://chatnb-mock.invalid/v1"
#: The in-process mock needs no key; the openai client insists on one, so it gets this.
PLACEHOLDER_KEY = "sk-chatnb-mock"


def _client_options(
    reply: Reply,
    api_key: str | None,
    max_retries: int,
    timeout: float | None,
    strict: bool,
    engine_options: dict[str, Any],
) -> tuple[MockBackend, dict[str, Any]]:
    backend = MockBackend(MockEngine(reply, **engine_options), api_key=api_key)
    options = {
        "api_key": api_key or PLACEHOLDER_KEY,
        "base_url": BASE_URL,
        "max_retries": max_retries,
        "timeout": timeout,
        "_strict_response_validation": strict,
    }
    return backend, options


def _sync_client(backend: MockBackend, options: dict[str, Any]) -> openai.OpenAI:
    import httpx2
    import openai

    from .transport import MockTransport

    return openai.OpenAI(http_client=httpx2.Client(transport=MockTransport(backend)), **options)


def _async_client(backend: MockBackend, options: dict[str, Any]) -> openai.AsyncOpenAI:
    import httpx2
    import openai

    from .transport import AsyncMockTransport

    transport = AsyncMockTransport(backend)
    return openai.AsyncOpenAI(http_client=httpx2.AsyncClient(transport=transport), **options)


def client(
    reply: Reply = "echo",
    *,
    api_key: str | None = None,
    max_retries: int = 2,
    timeout: float | None = 60.0,
    strict: bool = False,
    **engine_options: Any,
) -> openai.OpenAI:
    """An ``openai.OpenAI`` client answered in-process by the mock.

    ``engine_options`` are :class:`MockEngine`'s: ``chunking``, ``ttft_ms``, ``itl_ms``,
    ``jitter_ms``, ``failure``, ``seed``. With ``api_key``, the mock checks the key as the real
    API does (and the client sends it). ``strict`` turns on the client's strict validation of
    responses.
    """
    backend, options = _client_options(reply, api_key, max_retries, timeout, strict, engine_options)
    return _sync_client(backend, options)


def async_client(
    reply: Reply = "echo",
    *,
    api_key: str | None = None,
    max_retries: int = 2,
    timeout: float | None = 60.0,
    strict: bool = False,
    **engine_options: Any,
) -> openai.AsyncOpenAI:
    """An ``openai.AsyncOpenAI`` client answered in-process by the mock (options as
    :func:`client`)."""
    backend, options = _client_options(reply, api_key, max_retries, timeout, strict, engine_options)
    return _async_client(backend, options)


def client_pair(
    reply: Reply = "echo",
    *,
    api_key: str | None = None,
    max_retries: int = 2,
    timeout: float | None = 60.0,
    strict: bool = False,
    **engine_options: Any,
) -> tuple[openai.OpenAI, openai.AsyncOpenAI]:
    """A sync and an async client on one mock engine (a scripted reply list is shared)."""
    backend, options = _client_options(reply, api_key, max_retries, timeout, strict, engine_options)
    return _sync_client(backend, options), _async_client(backend, options)


def __getattr__(name: str) -> Any:
    if name == "MockServer":  # needs the `server` extra: imported only when asked for
        from .server import MockServer

        return MockServer
    raise AttributeError(f"module 'chatnb.mock' has no attribute {name!r}")
