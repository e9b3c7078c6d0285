"""The mock served over HTTP: a small ASGI app run by uvicorn (``pip install "chatnb[server]"``).

The app is a thin copy of :class:`~chatnb.mock.app.MockBackend`'s answers onto ASGI: the same
routing, errors and frames as the in-process front. Frames due at the same moment are sent in
one write, and a dropped connection is a real one (the socket is closed mid-body).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from ..tokens import encoding_for
from .app import MAX_BODY_BYTES, MockBackend
from .engine import Frame, MockEngine
from .options import MockOptions
from .replies import Reply

__all__ = ["MockServer", "create_app", "create_app_from_env", "serve"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CONFIG_ENV = "CHATNB_MOCK_CONFIG"
API_KEY_ENV = "CHATNB_MOCK_API_KEY"
#: Models whose vocabularies the server loads at startup (o200k_base and cl100k_base).
WARM_MODELS = ("gpt-4o", "gpt-4")
#: Frames a stream that is catching up sends before it hands the loop to the others.
_FRAMES_PER_YIELD = 256
#: Seconds open streams get to finish when the server is told to stop (SIGTERM, Ctrl-C).
SHUTDOWN_GRACE_S = 2


class _DropConnection(Exception):
    """Raised inside the app to make uvicorn close the socket mid-body, as a crash would."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], _DropConnection))


class MockASGIApp:
    def __init__(self, backend: MockBackend) -> None:
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        parts, size = [], 0
        while True:
            message = await receive()
            part = message.get("body", b"")
            size += len(part)
            if size <= MAX_BODY_BYTES:  # beyond it, read on but keep nothing: a 413 follows
                parts.append(part)
            if not message.get("more_body"):
                break
        body = b"".join(parts)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        # Parsing, validating and counting a big request is work: off the event loop, so the
        # other streams keep flowing meanwhile.
        answer = await asyncio.to_thread(
            self.backend.handle, scope["method"], scope["path"], headers, body, size
        )
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        raw_headers = [(k.encode(), v.encode()) for k, v in answer.headers]
        await send({"type": "http.response.start", "status": answer.status, "headers": raw_headers})
        if answer.frames is None:
            await send({"type": "http.response.body", "body": answer.body})
            return
        # Frames are due at absolute times (no drift); all frames already due go in one write,
        # so a busy server catches up instead of falling further behind.
        await self._stream(answer.frames, send)

    @staticmethod
    async def _stream(frames: Iterable[Frame], send: Send) -> None:
        """Send frames at their due times; frames already due go out together (joined once,
        never by repeated concatenation), and the loop is given back every so often, so one
        long stream cannot hold up the others."""
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        pending: list[bytes] = []
        first, since_yield = True, 0

        async def flush(more: bool = True) -> None:
            await send({"type": "http.response.body", "body": b"".join(pending), "more_body": more})
            pending.clear()

        for frame in frames:
            deadline += frame.delay_s
            wait = deadline - loop.time()
            if wait > 0:
                if pending:
                    await flush()
                await asyncio.sleep(wait)
                since_yield = 0
            if frame.data is None:
                if pending:
                    await flush()
                raise _DropConnection
            pending.append(frame.data)
            since_yield += 1
            if first or since_yield >= _FRAMES_PER_YIELD:
                # The first token goes out at once (time to first token stays honest); a
                # stream catching up hands over to the others now and then.
                await flush()
                await asyncio.sleep(0)
                first, since_yield = False, 0
        await flush(more=False)


def create_app(options: MockOptions | None = None, *, api_key: str | None = None) -> MockASGIApp:
    """The mock as an ASGI application (serve it with any ASGI server).

    The vocabularies are loaded here, before the first request: loading o200k_base takes
    about 0.3 s, which would otherwise land on the time to first token of the first requests.
    A throwaway engine answers one request too, so the first real one finds every module it
    needs imported and every validator built (the real engine's state is left untouched: a
    script is not advanced, no request is counted).
    """
    for model in WARM_MODELS:
        encoding_for(model).count("warm up")
    _warm_up()
    engine = MockEngine(options=options or MockOptions())
    return MockASGIApp(MockBackend(engine, api_key=api_key))


def _warm_up() -> None:
    body = b'{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]}'
    throwaway = MockBackend(MockEngine(options=MockOptions()))
    answer = throwaway.handle("POST", "/v1/chat/completions", {}, body)
    for _ in answer.frames or ():
        pass


def create_app_from_env() -> MockASGIApp:
    """Factory for uvicorn's worker processes: the settings travel in the environment."""
    options = MockOptions.model_validate_json(os.environ.get(CONFIG_ENV, "{}"))
    return create_app(options, api_key=os.environ.get(API_KEY_ENV) or None)


def _uvicorn_config(app: Any, **options: Any) -> Any:
    import uvicorn

    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
    return uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,  # streams cannot hold a stop forever
        **options,
    )


def serve(
    options: MockOptions | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    api_key: str | None = None,
    announce: Callable[[], None] | None = None,
) -> None:
    """Run the mock server in the foreground (what ``chatnb serve`` does).

    ``announce`` is called once the server takes connections: the app is built and warmed
    and the socket listens (a request sent right after waits in its backlog, never refused).
    """
    import uvicorn

    options = options or MockOptions()
    if workers > 1:
        os.environ[CONFIG_ENV] = options.model_dump_json()
        if api_key:
            os.environ[API_KEY_ENV] = api_key
        logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
        if announce is not None:
            announce()  # each worker builds its own app; uvicorn binds before it forks
        uvicorn.run(
            "chatnb.mock.server:create_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        )
        return
    server = uvicorn.Server(_uvicorn_config(create_app(options, api_key=api_key)))
    listening = _listening(host, port)
    if announce is not None:
        announce()
    server.run(sockets=[listening])


def _listening(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and already listening, as uvicorn would bind it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind((host, port))
    listening.listen(2048)
    return listening


class MockServer:
    """The mock HTTP server in a background thread, on 127.0.0.1 and a free port.

    >>> with MockServer(reply="Hi!", itl_ms=5) as server:      # doctest: +SKIP
    ...     client = openai.OpenAI(base_url=server.url, api_key="none")
    """

    def __init__(
        self,
        reply: Reply = "echo",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        **options: Any,
    ) -> None:
        """``reply`` and ``options`` are :class:`~chatnb.mock.MockOptions`' fields."""
        self.app = create_app(MockOptions(reply=reply, **options), api_key=api_key)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to give an OpenAI client (ends in ``/v1``)."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> MockServer:
        import uvicorn

        self._server = uvicorn.Server(_uvicorn_config(self.app, backlog=2048))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the mock server failed to start")
            threading.Event().wait(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._thread and self._thread.is_alive() else "stopped"
        return f"MockServer(url={self.url!r}, {state})"
