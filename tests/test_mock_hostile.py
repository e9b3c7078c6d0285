"""The mock server under hostile or heavy input: oversized and deeply nested bodies get the
API's JSON errors, a huge stream does not hold up the small ones, ``bearer`` in lower case is
a bearer, and SIGTERM stops the server while streams are open."""

from __future__ import annotations

import json
import signal
import threading
import time

import httpx2

from chatnb.mock import MockServer

from .conftest import chatnb_serve_process

KEY = "sk-mock-0123456789"


def _post(url: str, body: bytes, **headers: str) -> httpx2.Response:
    return httpx2.post(
        f"{url}/chat/completions",
        content=body,
        headers={"content-type": "application/json", **headers},
        timeout=60,
    )


def test_oversized_and_deeply_nested_bodies_get_json_errors() -> None:
    with MockServer() as server:
        big = _post(server.url, b"x" * (33 * 2**20))
        assert big.status_code == 413
        assert big.json()["error"]["code"] == "request_too_large"
        nested = b'{"model": "gpt-4o", "messages": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
        deep = _post(server.url, nested)
        assert deep.status_code == 400 and "message" in deep.json()["error"]


def test_a_lower_case_bearer_is_a_bearer() -> None:
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    with MockServer(api_key=KEY) as server:
        assert _post(server.url, body.encode(), authorization=f"bearer {KEY}").status_code == 200
        assert _post(server.url, body.encode(), authorization=f"Bearer {KEY}x").status_code == 401
        assert _post(server.url, body.encode(), authorization=f"Basic {KEY}").status_code == 401


def test_a_huge_stream_does_not_hold_up_small_ones() -> None:
    huge = json.dumps(
        {
            "model": "gpt-4o",
            "stream": True,
            "messages": [{"role": "user", "content": "word " * 40_000}],  # echoed back
            "mock": {"chunking": "chars"},
        }
    ).encode()
    small = json.dumps(
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    ).encode()
    finished: dict[str, float] = {}
    with MockServer() as server:

        def stream_huge() -> None:
            with httpx2.stream(
                "POST", f"{server.url}/chat/completions", content=huge, timeout=120
            ) as response:
                for _ in response.iter_bytes():
                    finished.setdefault("huge started", time.monotonic())
            finished["huge"] = time.monotonic()

        thread = threading.Thread(target=stream_huge)
        thread.start()
        while "huge started" not in finished:
            time.sleep(0.01)
        assert _post(server.url, small).status_code == 200
        finished["small"] = time.monotonic()
        thread.join(timeout=120)
    assert finished["small"] < finished["huge"]  # answered while the huge one still streamed


def test_sigterm_stops_the_server_while_streams_are_open() -> None:
    with chatnb_serve_process("--itl-ms", "1000") as (url, server):
        body = json.dumps(
            {
                "model": "gpt-4o",
                "stream": True,
                "messages": [{"role": "user", "content": "word " * 300}],
            }
        ).encode()
        with httpx2.stream("POST", f"{url}/chat/completions", content=body, timeout=60) as open_:
            next(open_.iter_bytes())  # a five-minute stream is under way
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)  # it stops within its grace period, not after the stream
