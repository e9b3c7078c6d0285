"""The SSE reader on a line with no end, measured: linear in the line's length, and refused at
its cap however long the server goes on.

1. CPU time to read one ``data:`` line of 8 MB and of 32 MB that arrives in 64 KB pieces and
   ends only at the last one (the cap raised to 64 MiB so that both are read): chatnb's
   ``SSEDecoder``, and, as the baseline measured in the same run, the decoder it replaced (the
   open line copied and searched again on every piece). 32 MB over 8 MB is 4x for linear
   work and 16x for quadratic work.
2. A real server on 127.0.0.1 that sends a first chunk, then a 64 MB line that never ends,
   to a Chatbot: the error, how many bytes the server got out before the client stopped
   reading, and the CPU time of the ask.

    python benchmarks/sse.py
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openai

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chatnb import Chatbot, ChatnbError
from chatnb.stream import MAX_FRAME_BYTES, SSEDecoder

PIECE = 65536
ROUNDS = 3


class OldDecoder:
    """The decoder chatnb had before: the open line joined to each new piece and searched."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> None:
        buffer = self.buffer + data
        cut = len(buffer) - 1 if buffer.endswith(b"\r") else len(buffer)
        last = max(buffer.rfind(b"\n", 0, cut), buffer.rfind(b"\r", 0, cut))
        self.buffer = buffer if last < 0 else buffer[last + 1 :]


def read_line(make: Callable[[], object], megabytes: int) -> float:
    """Median CPU seconds to feed one line of ``megabytes`` MB in 64 KB pieces."""
    piece, count = b"x" * PIECE, megabytes * 2**20 // PIECE
    times = []
    for _ in range(ROUNDS):
        decoder = make()
        feed = decoder.feed  # type: ignore[attr-defined]
        start = time.process_time()
        feed(b"data: ")
        for _ in range(count):
            feed(piece)
        feed(b"\n\n")
        times.append(time.process_time() - start)
    return statistics.median(times)


def part_one() -> None:
    print("1. one line of 8 MB and of 32 MB, in 64 KB pieces (CPU seconds, median of 3)")
    print(f"   {'decoder':<22}{'8 MB':>9}{'32 MB':>9}{'32/8':>8}")
    for name, make in (
        ("chatnb SSEDecoder", lambda: SSEDecoder(max_frame=64 * 2**20)),
        ("the old decoder", OldDecoder),
    ):
        small, large = read_line(make, 8), read_line(make, 32)
        print(f"   {name:<22}{small:>9.3f}{large:>9.3f}{large / small:>7.1f}x")
    print("   (linear work: 4x; quadratic: 16x)")


@contextmanager
def endless_line_server(sent: list[int]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            first = (
                b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":'
                b'"gpt-4o","choices":[{"index":0,"delta":{"content":"First words"}}]}\n\ndata: '
            )
            try:
                self.wfile.write(first)
                for _ in range(64 * 2**20 // PIECE):
                    self.wfile.write(b"x" * PIECE)
                    sent[0] += PIECE
            except (BrokenPipeError, ConnectionResetError):
                return

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def part_two() -> None:
    sent = [0]
    with endless_line_server(sent) as url:
        client = openai.OpenAI(base_url=url, api_key="sk-bench", max_retries=0)
        bot = Chatbot("gpt-4o", client=client, display=False)
        start = time.process_time()
        try:
            bot.ask("Tell me")
            outcome = "answered (not refused!)"
        except ChatnbError as error:
            outcome = type(error).__name__
        cpu = time.process_time() - start
    print("2. a Chatbot, and a server that sends a 64 MB line with no end")
    print(f"   outcome: {outcome}; the cap: {MAX_FRAME_BYTES / 2**20:g} MiB")
    print(f"   sent before the client stopped reading: {sent[0] / 2**20:.1f} MiB of 64")
    print(f"   CPU of the ask: {cpu:.2f} s; partial answer kept: {bot.history[-1].content!r}")


if __name__ == "__main__":
    part_one()
    part_two()
