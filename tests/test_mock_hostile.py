"""The mock server under hostile or heavy input: oversized and deeply nested bodies get the
API's JSON errors, a huge stream does not hold up the small ones, ``bearer`` in lower case is
a bearer, and SIGTERM stops the server while streams are open."""

from __future__ import annotations

import json
import signal
import threading
import time

import httpx2
import pytest

from chatnb.mock import MockServer
from chatnb.mock.app import MockBackend, MockResponse
from chatnb.mock.engine import MockEngine
from chatnb.mock.options import MockOptions

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


# -- the Files and Batch APIs -------------------------------------------------------------------

_GOOD = {
    "custom_id": "a",
    "method": "POST",
    "url": "/v1/chat/completions",
    "body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
}


def _backend(**options: object) -> MockBackend:
    return MockBackend(MockEngine(options=MockOptions(batch_delay_s=0, **options)))  # type: ignore[arg-type]


def _upload(backend: MockBackend, content: bytes) -> str:
    head = (
        b'--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--B\r\n'
        b'Content-Disposition: form-data; name="file"; filename="in.jsonl"\r\n\r\n'
    )
    form = {"content-type": "multipart/form-data; boundary=B"}
    response = backend.handle("POST", "/v1/files", form, head + content + b"\r\n--B--\r\n")
    assert response.status == 200
    return str(json.loads(response.body)["id"])


def _create(backend: MockBackend, file_id: str) -> MockResponse:
    body = {"input_file_id": file_id, "endpoint": "/v1/chat/completions"}
    return backend.handle(
        "POST", "/v1/batches", {}, json.dumps({**body, "completion_window": "24h"}).encode()
    )


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"\xff\xfe" + json.dumps(_GOOD).encode(), "not UTF-8 text"),
        (json.dumps({**_GOOD, "body": "hi"}).encode(), "body must be a JSON object"),
        (json.dumps({**_GOOD, "body": [1]}).encode(), "body must be a JSON object"),
        (json.dumps({**_GOOD, "custom_id": {"a": 1}}).encode(), "custom_id must be a string"),
        (b"[" * 100_000 + b"]" * 100_000, "Line 1 of the input file is not JSON"),
        (b"[1, 2]", "needs custom_id, method, url and body"),
    ],
)
def test_a_malformed_input_file_is_refused_when_the_batch_is_created(
    content: bytes, said: str
) -> None:
    # Once, a body that is not an object passed here and stopped the run half-way: a 500 on
    # every poll and the batch "finalizing" for ever; an unhashable custom_id was a 500.
    backend = _backend()
    response = _create(backend, _upload(backend, content))
    assert response.status == 400 and said in json.loads(response.body)["error"]["message"]
    assert backend.batches.batches == {}


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"null", b'{"metadata": 5}'])
def test_a_batch_request_that_is_not_an_object_is_a_400(body: bytes) -> None:
    response = _backend().handle("POST", "/v1/batches", {}, body)
    assert response.status == 400


@pytest.mark.parametrize(
    "path",
    [
        "/v1/files/..%2F..%2Fetc",
        "/v1/files/" + "a" * 5000,
        "/v1/batches/%00",
        "/v1/batches/x/cancel/more",
        "/v1/files/x/content",
        "/v1/batches/../files",
    ],
)
def test_hostile_ids_are_404_and_echo_little(path: str) -> None:
    response = _backend().handle("GET", path, {}, b"")
    assert response.status == 404 and len(response.body) < 400


def test_a_batch_whose_run_fails_ends_failed_never_finalizing() -> None:
    def broken(messages: object) -> str:
        raise RuntimeError("the engine broke")

    backend = _backend(reply=broken)
    created = json.loads(_create(backend, _upload(backend, json.dumps(_GOOD).encode())).body)
    with pytest.raises(RuntimeError):
        backend.handle("GET", f"/v1/batches/{created['id']}", {}, b"")
    again = json.loads(backend.handle("GET", f"/v1/batches/{created['id']}", {}, b"").body)
    assert again["status"] == "failed" and again["failed_at"] is not None
