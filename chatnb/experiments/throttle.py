"""Rate limits, shared by every request of an experiment, so a big run slows down instead of
failing.

A :class:`Throttle` sits in the async client's transport. Before each request it waits out a
pause (set by a 429's ``Retry-After``) and takes a token from a bucket refilled at the rate the
server announces (``x-ratelimit-limit-requests`` per minute, resynchronised from
``x-ratelimit-remaining-requests`` on every answer); when ``x-ratelimit-remaining-tokens`` runs
out it waits for ``x-ratelimit-reset-tokens``. A 429 pauses *every* request, not only the one
that got it, and the request is sent again after the pause, up to ``max_waits`` times, before
the 429 goes on to the client.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import httpx2
else:
    from ..openai_private import library

    httpx2 = library()

__all__ = ["Throttle", "parse_duration"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_Client = TypeVar("_Client")


def parse_duration(text: str | None) -> float | None:
    """``"6m0s"`` -> 360.0, ``"20ms"`` -> 0.02, ``"1.5"`` -> 1.5 (as OpenAI writes resets)."""
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    return sum(float(value) * _SECONDS[unit] for value, unit in parts) if parts else None


def _number(headers: Mapping[str, str], name: str) -> float | None:
    try:
        return float(headers[name])
    except (KeyError, ValueError):
        return None


class Throttle:
    """Waits before requests as the server's rate limits ask, for all requests at once."""

    def __init__(
        self,
        *,
        max_waits: int = 8,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.max_waits = max_waits
        self._clock, self._sleep = clock, sleep
        self._pause_until = 0.0
        self._rate: float | None = None  # requests per second
        self._level = 0.0
        self._capacity = 0.0
        self._stamp = clock()
        #: Requests sent, 429s received, and seconds spent waiting (for the progress line).
        self.sent = self.limited = 0
        self.waited_s = 0.0

    async def ready(self) -> None:
        """Wait until a request may go out."""
        while True:
            now = self._clock()
            wait = max(0.0, self._pause_until - now)
            if not wait and self._rate is not None:
                self._refill(now)
                if self._level < 1:
                    wait = (1 - self._level) / self._rate
                else:
                    self._level -= 1
            if not wait:
                self.sent += 1
                return
            self.waited_s += wait
            await self._sleep(wait)

    def _refill(self, now: float) -> None:
        assert self._rate is not None
        self._level = min(self._capacity, self._level + (now - self._stamp) * self._rate)
        self._stamp = now

    def observe(self, status: int, headers: Mapping[str, str]) -> bool:
        """Learn from an answer's status and headers; True when the request must be sent
        again (a 429)."""
        now = self._clock()
        limit = _number(headers, "x-ratelimit-limit-requests")
        remaining = _number(headers, "x-ratelimit-remaining-requests")
        if limit:
            self._rate, self._capacity = limit / 60.0, limit
            if remaining is not None:
                self._level, self._stamp = min(remaining, limit), now
        tokens_left = _number(headers, "x-ratelimit-remaining-tokens")
        if tokens_left is not None and tokens_left <= 0:
            reset = parse_duration(headers.get("x-ratelimit-reset-tokens")) or 1.0
            self._pause_until = max(self._pause_until, now + reset)
        if status != 429:
            return False
        self.limited += 1
        self._pause_until = max(self._pause_until, now + self._retry_after(headers))
        return True

    @staticmethod
    def _retry_after(headers: Mapping[str, str]) -> float:
        after_ms = _number(headers, "retry-after-ms")
        if after_ms is not None:
            return after_ms / 1000
        return (
            _number(headers, "retry-after")
            or parse_duration(headers.get("x-ratelimit-reset-requests"))
            or 1.0
        )

    def wrap(self, client: _Client) -> _Client:
        """A copy of an async openai client whose requests go through this throttle."""
        http: Any = getattr(client, "_client")  # noqa: B009  (openai's own HTTP client)
        transport = _ThrottledTransport(http._transport, self)
        wrapped: Any = client
        return wrapped.copy(http_client=httpx2.AsyncClient(transport=transport))  # type: ignore[no-any-return]


class _ThrottledTransport(httpx2.AsyncBaseTransport):
    def __init__(self, inner: httpx2.AsyncBaseTransport, throttle: Throttle) -> None:
        self.inner, self.throttle = inner, throttle

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        for attempt in range(self.throttle.max_waits + 1):
            await self.throttle.ready()
            response = await self.inner.handle_async_request(request)
            again = self.throttle.observe(response.status_code, response.headers)
            if not again or attempt == self.throttle.max_waits:
                return response
            await response.aclose()
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self) -> None:
        await self.inner.aclose()
