"""The mock served in-process to the official openai client, through its HTTP transport.

No socket, no thread, no extra dependency (a transport of the HTTP library the installed
openai uses, see :mod:`chatnb.openai_private`): the openai client builds its requests, applies its
auth, retries and timeouts as usual, and this transport answers them with the mock backend's
bytes, sleeping where the real API would make it wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from .app import MockBackend, MockResponse
from .engine import Frame

if TYPE_CHECKING:
    import httpx2
else:  # the HTTP library of the installed openai client: httpx2 (3.x) or httpx (2.x)
    from ..openai_private import library

    httpx2 = library()

__all__ = ["AsyncMockTransport", "MockTransport"]

_DROPPED = "peer closed connection without sending complete message body (dropped by the mock)"


def _response(
    request: httpx2.Request,
    answer: MockResponse,
    stream: httpx2.SyncByteStream | httpx2.AsyncByteStream | None,
) -> httpx2.Response:
    if stream is None:
        return httpx2.Response(
            answer.status, headers=answer.headers, content=answer.body, request=request
        )
    return httpx2.Response(answer.status, headers=answer.headers, stream=stream, request=request)


class _SyncFrames(httpx2.SyncByteStream):
    def __init__(self, frames: Iterator[Frame]) -> None:
        self._frames = frames

    def __iter__(self) -> Iterator[bytes]:
        for frame in self._frames:
            if frame.delay_s:
                time.sleep(frame.delay_s)
            if frame.data is None:
                raise httpx2.RemoteProtocolError(_DROPPED)
            yield frame.data


class _AsyncFrames(httpx2.AsyncByteStream):
    def __init__(self, frames: Iterator[Frame]) -> None:
        self._frames = frames

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for frame in self._frames:
            if frame.delay_s:
                await asyncio.sleep(frame.delay_s)
            if frame.data is None:
                raise httpx2.RemoteProtocolError(_DROPPED)
            yield frame.data


class MockTransport(httpx2.BaseTransport):
    """A synchronous transport (of openai's HTTP library) answered by a :class:`MockBackend`."""

    def __init__(self, backend: MockBackend) -> None:
        self.backend = backend

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        answer = self.backend.handle(
            request.method, request.url.path, request.headers, request.read()
        )
        if answer.delay_s:
            time.sleep(answer.delay_s)
        stream = _SyncFrames(answer.frames) if answer.frames is not None else None
        return _response(request, answer, stream)


class AsyncMockTransport(httpx2.AsyncBaseTransport):
    """An asynchronous transport (of openai's HTTP library) answered by a :class:`MockBackend`."""

    def __init__(self, backend: MockBackend) -> None:
        self.backend = backend

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        answer = self.backend.handle(
            request.method, request.url.path, request.headers, await request.aread()
        )
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        stream = _AsyncFrames(answer.frames) if answer.frames is not None else None
        return _response(request, answer, stream)
