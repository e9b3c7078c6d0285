"""Record and replay: answers kept in a SQLite file, so a notebook re-runs for free and alike.

The cache is a transport of the HTTP library the openai client sends through, wrapped around
the client's own transport: auth, retries and every caller of the client are covered, and the
answers are the bytes the server sent, replayed with the same chunking (and, if asked, the same
timing), so a replayed stream goes through exactly the code a live one does.

A request is known by its method, path and JSON body (sorted), never by its headers (where the
key travels) nor by query parameters that look like credentials; the same request asked again
on purpose (``regenerate``, repeats) is the next *sample* of it, so samples are recorded and
replayed in order instead of collapsing into one. Only complete answers are kept: an HTTP
error or a stream that broke is never recorded. Each recording is written in one transaction
once its stream has ended, so a kernel killed mid-stream leaves nothing half-written.

Modes: ``auto`` replays what is there and records what is not; ``record`` always asks and
overwrites; ``replay`` never asks (a miss is an error that names the request: for CI);
``off`` passes everything through.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlencode

from .errors import CacheMissError, shorten  # CacheMissError: its home was here
from .openai_private import http_client
from .redaction import is_secret_name
from .store import Recording, Store

if TYPE_CHECKING:
    import httpx2
    import openai
else:
    from .openai_private import library

    httpx2 = library()

__all__ = ["CACHE_ENV", "MODE_ENV", "OUTCOME_HEADER", "Cache", "CacheMissError", "Mode", "client"]

Mode = Literal["auto", "record", "replay", "off"]
#: A notebook-wide cache file for every Chatbot that is not given one.
CACHE_ENV = "CHATNB_CACHE"
#: The mode of caches whose mode was not given (``replay`` in CI).
MODE_ENV = "CHATNB_CACHE_MODE"

_Client = TypeVar("_Client", "openai.OpenAI", "openai.AsyncOpenAI")


def _normalized(request: httpx2.Request) -> str:
    """The request as the cache knows it: no headers, no credentials, JSON sorted."""
    raw = request.content
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode("utf-8", "replace")
    query = [
        (name, value)
        for name, value in request.url.params.multi_items()
        if not is_secret_name(name)
    ]
    shape = {"method": request.method, "path": request.url.path, "query": urlencode(sorted(query))}
    return json.dumps({**shape, "body": body}, sort_keys=True, separators=(",", ":"))


def _response_ended(body: bytes) -> bool:
    """A Responses API stream (no ``[DONE]``) ends with the event that closes its response."""
    last = body.rstrip()
    start = last.rfind(b"data: ")
    if start < 0:
        return False
    try:
        event = json.loads(last[start + 6 :])
    except ValueError:
        return False
    return isinstance(event, dict) and event.get("type") in _RESPONSE_ENDS


#: The last event of a whole Responses API stream.
_RESPONSE_ENDS = ("response.completed", "response.incomplete")


def _complete(status: int, content_type: str, body: bytes) -> bool:
    """Worth keeping: a 200 whose stream ended as streams end (or a whole JSON answer)."""
    if status != 200:
        return False
    if "text/event-stream" in content_type:
        return body.rstrip().endswith(b"data: [DONE]") or _response_ended(body)
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


class Cache:
    """Where answers are kept, how they are used (``mode``) and replayed (``timing``).

    One Cache counts the samples of each request, so the clients that share it (a Chatbot's
    sync and async client, its copies in ``compare``) replay a conversation in its order.

    Args:
        path: The SQLite file (created if missing; a file that is not a chatnb cache is
            refused and left as it is).
        mode: ``"auto"`` replays what was recorded and asks for the rest; ``"record"`` always
            asks and overwrites; ``"replay"`` never asks (a miss is a ``CacheMissError``);
            ``"off"`` passes everything through. Default: ``CHATNB_CACHE_MODE``, else
            ``"auto"``.
        timing: ``"fast"`` replays a stream at once; ``"recorded"`` with the pauses it was
            recorded with.
    """

    def __init__(
        self,
        path: str | Path,
        mode: Mode | None = None,
        *,
        timing: Literal["fast", "recorded"] = "fast",
    ) -> None:
        chosen = mode or os.environ.get(MODE_ENV) or "auto"
        if chosen not in ("auto", "record", "replay", "off"):
            raise ValueError(f"cache mode {chosen!r}: choose auto, record, replay or off")
        self.mode: Mode = chosen  # type: ignore[assignment]
        self.timing = timing
        self.store = Store(path)
        # Samples handed out per request, and those handed back by attempts that failed (a
        # retry after a 429 is the same sample again, not the next one).
        self._samples: Counter[str] = Counter()
        self._returned: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> Cache | None:
        """The notebook-wide cache named by ``CHATNB_CACHE``, if any."""
        path = os.environ.get(CACHE_ENV)
        return cls(path) if path else None

    def lookup(self, request: httpx2.Request) -> tuple[str, int, str, Recording | None]:
        """The request's key, which sample of it this is, its normalized form, and the
        recording to replay (``None``: ask the server)."""
        normalized = _normalized(request)
        key = hashlib.sha256(normalized.encode()).hexdigest()
        sample = self._take(key)
        if self.mode in ("record", "off"):
            return key, sample, normalized, None
        found = self.store.get(key, sample)
        if found is None and self.mode == "replay":
            self.give_back(key, sample)
            raise CacheMissError(
                f"Nothing was recorded for this request (sample {sample + 1} of it) in "
                f"{self.store.path}, and the cache only replays: {shorten(normalized, 200)}. "
                "Record it first (CHATNB_CACHE_MODE=auto, with a key)."
            )
        return key, sample, normalized, found

    def _take(self, key: str) -> int:
        with self._lock:
            returned = self._returned.get(key)
            if returned:
                return heapq.heappop(returned)
            self._samples[key] += 1
            return self._samples[key] - 1

    def give_back(self, key: str, sample: int) -> None:
        """An attempt at ``sample`` got no answer worth keeping: the next attempt takes it."""
        with self._lock:
            heapq.heappush(self._returned.setdefault(key, []), sample)

    def rewind(self) -> None:
        """Count samples from the first again, as a new kernel does: the next asks replay the
        recordings from the start (re-running a cell otherwise asks for the next sample)."""
        with self._lock:
            self._samples.clear()
            self._returned.clear()

    def wrap(self, client: _Client) -> _Client:
        """A copy of an openai client whose transport goes through this cache."""
        # httpx2's client under openai 3.x, httpx's under 2.x: typed loosely for both.
        http: Any = http_client(client)
        if isinstance(http, httpx2.AsyncClient):
            inner: Any = http._transport
            wrapped: Any = httpx2.AsyncClient(transport=AsyncCachingTransport(inner, self))
        else:
            wrapped = httpx2.Client(transport=CachingTransport(http._transport, self))
        return client.copy(http_client=wrapped)

    def __repr__(self) -> str:
        return f"Cache({str(self.store.path)!r}, mode={self.mode!r})"


def client(openai_client: _Client, path: str | Path, mode: Mode | None = None) -> _Client:
    """Any openai client (sync or async, OpenAI, Azure, the mock), recording and replaying its
    answers in ``path``.

    Args:
        openai_client: The client to wrap; it is copied, not changed.
        path: The SQLite file of the recordings.
        mode: As :class:`Cache`'s (default: ``CHATNB_CACHE_MODE``, else ``"auto"``).

    Returns:
        A copy of the client that sends through the cache.
    """
    return Cache(path, mode).wrap(openai_client)


#: The response header that tells what the cache did: ``hit``, ``miss`` (asked, and recorded if
#: complete) or ``off``. The run log keeps it.
OUTCOME_HEADER = "x-chatnb-cache"


def _recording(request: httpx2.Request, live: httpx2.Response, stream: Any) -> httpx2.Response:
    """The live response, passed on through a stream that records it."""
    headers = httpx2.Headers(live.headers)
    headers[OUTCOME_HEADER] = "off" if stream.recorder.cache.mode == "off" else "miss"
    return httpx2.Response(
        live.status_code,
        headers=headers,
        stream=stream,
        request=request,
        extensions=live.extensions,
    )


def _replayed(request: httpx2.Request, recording: Recording, stream: Any) -> httpx2.Response:
    headers = {"content-type": recording.content_type, OUTCOME_HEADER: "hit"}
    return httpx2.Response(recording.status, headers=headers, stream=stream, request=request)


class _Recorder:
    """Passes a live stream on, piece by piece, and keeps it once it has ended well."""

    def __init__(self, cache: Cache, key: str, sample: int, request: str, response: Any) -> None:
        self.cache, self.key, self.sample, self.request = cache, key, sample, request
        self.status = response.status_code
        self.content_type = response.headers.get("content-type", "")
        self.pieces: list[bytes] = []
        self.cuts: list[tuple[int, float]] = []
        self._size, self._last = 0, time.monotonic()
        self.done = False

    def keep(self, piece: bytes) -> None:
        now = time.monotonic()
        self.pieces.append(piece)
        self._size += len(piece)
        self.cuts.append((self._size, now - self._last))
        self._last = now

    def ended(self) -> None:
        """The stream ended, or was closed (clients close it once they have read [DONE])."""
        if self.done:
            return
        self.done = True
        body = b"".join(self.pieces)
        if not _complete(self.status, self.content_type, body):
            self.cache.give_back(self.key, self.sample)
        elif self.cache.mode != "off":
            recording = Recording(self.status, self.content_type, body, self.cuts)
            import sqlite3  # loaded already: the store opened the file

            try:
                self.cache.store.put(self.key, self.sample, self.request, recording)
            except sqlite3.Error as failed:  # the answer, already billed, matters more
                self.cache.store.unwritten("this answer's recording", failed)


class _RecordingStream(httpx2.SyncByteStream):
    def __init__(self, inner: Any, recorder: _Recorder) -> None:
        self.inner, self.recorder = inner, recorder

    def __iter__(self) -> Iterator[bytes]:
        for piece in self.inner:
            self.recorder.keep(piece)
            yield piece
        self.recorder.ended()

    def close(self) -> None:
        self.recorder.ended()
        self.inner.close()


class _AsyncRecordingStream(httpx2.AsyncByteStream):
    def __init__(self, inner: Any, recorder: _Recorder) -> None:
        self.inner, self.recorder = inner, recorder

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for piece in self.inner:
            self.recorder.keep(piece)
            yield piece
        self.recorder.ended()

    async def aclose(self) -> None:
        self.recorder.ended()
        await self.inner.aclose()


class _ReplayStream(httpx2.SyncByteStream):
    def __init__(self, recording: Recording, timed: bool) -> None:
        self.recording, self.timed = recording, timed

    def __iter__(self) -> Iterator[bytes]:
        for piece, delay in self.recording.pieces():
            if self.timed and delay:
                time.sleep(delay)
            yield piece


class _AsyncReplayStream(httpx2.AsyncByteStream):
    def __init__(self, recording: Recording, timed: bool) -> None:
        self.recording, self.timed = recording, timed

    async def __aiter__(self) -> AsyncIterator[bytes]:
        import asyncio

        for piece, delay in self.recording.pieces():
            if self.timed and delay:
                await asyncio.sleep(delay)
            yield piece


class CachingTransport(httpx2.BaseTransport):
    """A transport that answers from the cache, or asks ``inner`` and records the answer."""

    def __init__(self, inner: httpx2.BaseTransport, cache: Cache) -> None:
        self.inner, self.cache = inner, cache

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        key, sample, normalized, found = self.cache.lookup(request)
        if found is not None:
            stream = _ReplayStream(found, self.cache.timing == "recorded")
            return _replayed(request, found, stream)
        try:
            response = self.inner.handle_request(request)
        except BaseException:
            self.cache.give_back(key, sample)
            raise
        recorder = _Recorder(self.cache, key, sample, normalized, response)
        return _recording(request, response, _RecordingStream(response.stream, recorder))

    def close(self) -> None:
        self.inner.close()


class AsyncCachingTransport(httpx2.AsyncBaseTransport):
    """:class:`CachingTransport` for async clients."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, cache: Cache) -> None:
        self.inner, self.cache = inner, cache

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        key, sample, normalized, found = self.cache.lookup(request)
        if found is not None:
            stream = _AsyncReplayStream(found, self.cache.timing == "recorded")
            return _replayed(request, found, stream)
        try:
            response = await self.inner.handle_async_request(request)
        except BaseException:
            self.cache.give_back(key, sample)
            raise
        recorder = _Recorder(self.cache, key, sample, normalized, response)
        return _recording(request, response, _AsyncRecordingStream(response.stream, recorder))

    async def aclose(self) -> None:
        await self.inner.aclose()
