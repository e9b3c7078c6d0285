"""A hostile or unlucky wire, through a whole Chatbot and a real server on 127.0.0.1: a line
that never ends is refused past the cap, a server that trickles keep-alives is ended by the
answer's deadline, and a cache that cannot write or read says so in plain words. Each time
the partial answer is kept, the History stays valid, and the next ask works."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openai
import pytest

from chatnb import Chatbot, mock
from chatnb.errors import AnswerTimeoutError, APITimeoutError, FrameTooLargeError, StreamError
from chatnb.stream import MAX_FRAME_BYTES

#: What a server does with one request: writes its answer to the socket.
Script = Callable[[BaseHTTPRequestHandler], None]

PARTIAL = "The first words of an answer"


def _chunk(content: str) -> bytes:
    choice = {"index": 0, "delta": {"role": "assistant", "content": content}}
    frame = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o"}
    return b"data: " + json.dumps({**frame, "choices": [choice]}).encode() + b"\n\n"


def _whole(text: str) -> bytes:
    """A complete streamed answer, as the mock (like the real API) sends it."""
    create = mock.client(text).chat.completions.with_streaming_response.create
    with create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True) as r:
        return b"".join(r.iter_bytes())


def _begin(handler: BaseHTTPRequestHandler) -> None:
    handler.rfile.read(int(handler.headers.get("content-length", 0)))
    handler.send_response(200)
    handler.send_header("content-type", "text/event-stream")
    handler.end_headers()


def _writes(handler: BaseHTTPRequestHandler, pieces: Iterator[bytes], pause_s: float) -> None:
    try:
        for piece in pieces:
            handler.wfile.write(piece)
            handler.wfile.flush()
            time.sleep(pause_s)
    except (BrokenPipeError, ConnectionResetError):
        return  # the client stopped reading, as it should


def endless_line(handler: BaseHTTPRequestHandler) -> None:
    """A first chunk, then a 64 MB ``data:`` line that never ends."""
    _begin(handler)
    piece = b"x" * 65536
    _writes(handler, iter([_chunk(PARTIAL), b"data: ", *[piece] * 1024]), 0.0)


def trickle(handler: BaseHTTPRequestHandler) -> None:
    """A first chunk, then a keep-alive comment every 0.2 s, for a minute at most."""
    _begin(handler)
    _writes(handler, iter([_chunk(PARTIAL), *[b": keep-alive\n\n"] * 300]), 0.2)


def answers(text: str) -> Script:
    def script(handler: BaseHTTPRequestHandler) -> None:
        _begin(handler)
        _writes(handler, iter([_whole(text)]), 0.0)

    return script


@contextmanager
def serving(*scripts: Script) -> Iterator[str]:
    """A server on 127.0.0.1 that runs ``scripts`` request by request; its base URL."""
    served = iter(scripts)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            next(served)(self)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _bot(url: str, **settings: object) -> Chatbot:
    client = openai.OpenAI(base_url=url, api_key="sk-test", max_retries=0)
    return Chatbot("gpt-4o", client=client, display=False, **settings)  # type: ignore[arg-type]


def _kept_and_valid(bot: Chatbot, error: StreamError) -> None:
    assert error.partial == PARTIAL and "kept in bot.history" in str(error)
    last = bot.history[-1]
    assert last.role == "assistant" and last.content == PARTIAL
    assert bot.history.note(last) == "failed"


# --- a line that never ends ---------------------------------------------------------------


def test_a_64_mb_line_with_no_end_is_refused_and_the_next_ask_works() -> None:
    with serving(endless_line, answers("Fine again.")) as url:
        bot = _bot(url)
        with pytest.raises(FrameTooLargeError) as refused:
            bot.ask("Tell me")
        _kept_and_valid(bot, refused.value)
        assert f"{MAX_FRAME_BYTES // 2**20} MiB" in str(refused.value)
        assert bot.ask("Again") == "Fine again."
    assert len(bot.history) == 4


# --- a server that trickles keep-alives ---------------------------------------------------


def test_a_server_that_trickles_keep_alives_is_ended_by_the_answer_timeout() -> None:
    with serving(trickle, answers("Fine again.")) as url:
        bot = _bot(url, answer_timeout=1)
        started = time.monotonic()
        with pytest.raises(AnswerTimeoutError) as late:
            bot.ask("Tell me")
        assert time.monotonic() - started < 30  # a hang guard only: the server trickles 60 s
        assert isinstance(late.value, APITimeoutError)  # one except catches every timeout
        assert "answer_timeout" in str(late.value) and "1 s" in str(late.value)
        _kept_and_valid(bot, late.value)
        assert bot.ask("Again") == "Fine again."


def test_the_async_ask_has_the_deadline_too_and_an_ask_can_set_its_own() -> None:
    with serving(trickle, answers("Fine again.")) as url:
        bot = _bot(url)  # the default: ten minutes
        assert bot.answer_timeout == 600
        with pytest.raises(AnswerTimeoutError) as late:
            asyncio.run(bot.aask("Tell me", answer_timeout=0.5))
        _kept_and_valid(bot, late.value)
        assert asyncio.run(bot.aask("Again")) == "Fine again."


def test_the_answer_timeout_is_kept_by_copy_save_and_load(tmp_path: Path) -> None:
    bot = Chatbot.mock("Hi.", answer_timeout=42, display=False)
    assert bot.copy().answer_timeout == 42
    assert Chatbot.load(bot.save(tmp_path / "s.json")).answer_timeout == 42
    off = Chatbot.mock("Hi.", answer_timeout=None, display=False)
    assert Chatbot.load(off.save(tmp_path / "off.json")).answer_timeout is None
    older = json.loads((tmp_path / "s.json").read_text())
    del older["answer_timeout"]  # a file saved before the setting existed
    (tmp_path / "old.json").write_text(json.dumps(older))
    assert Chatbot.load(tmp_path / "old.json").answer_timeout == 600
    for wrong in (0, -1, "soon"):
        with pytest.raises(ValueError, match="answer_timeout"):
            Chatbot.mock("Hi.", answer_timeout=wrong)
