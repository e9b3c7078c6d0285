"""A real HTTP server on 127.0.0.1 for tests: it records every request and answers with a
canned body (a recorded stream, say), then is always stopped by its context manager. And
:func:`wait_until_serving`, for the servers tests start as processes of their own."""

from __future__ import annotations

import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any


def wait_until_serving(
    url: str, process: subprocess.Popen[Any], log: Path | None = None, seconds: float = 90
) -> None:
    """Until ``url`` answers (a 401 counts: up, and asking for the key). A process that ends,
    or ``seconds`` gone by, raises with the end of its ``log``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError as error:
            if getattr(error, "code", None) == 401:
                return
            if time.monotonic() > deadline or process.poll() is not None:
                said = log.read_text()[-3000:] if log is not None else ""
                raise RuntimeError(f"{url} never answered. {said}") from None
            time.sleep(0.2)


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class RecordingServer:
    """Answers every POST with ``body`` (``content_type``, ``status``), remembering what it
    was sent.

    With ``frame_delay_s``, an event stream is sent one frame at a time, that long apart, as a
    model's server sends it while it generates.
    """

    body: bytes | list[bytes]  # a list: one after the other, request by request
    content_type: str = "text/event-stream"
    frame_delay_s: float = 0.0
    status: int = 200
    requests: list[Seen] = field(default_factory=list)

    def __enter__(self) -> RecordingServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                bodies = owner.body if isinstance(owner.body, list) else [owner.body]
                body = bodies[len(owner.requests) % len(bodies)]
                owner.requests.append(
                    Seen(
                        "POST",
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        self.rfile.read(length),
                    )
                )
                self.send_response(owner.status)
                self.send_header("content-type", owner.content_type)
                if not owner.frame_delay_s:
                    self.send_header("content-length", str(len(body)))
                self.end_headers()
                if not owner.frame_delay_s:
                    self.wfile.write(body)
                    return
                for frame in body.split(b"\n\n"):
                    try:
                        self.wfile.write(frame + b"\n\n")
                        self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):
                        return  # the client gave up (a read timeout, an interrupt)
                    time.sleep(owner.frame_delay_s)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
