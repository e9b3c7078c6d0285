"""Shared fixtures: the real OpenAI recordings, a kernel, and openai clients on the mock."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import pytest

from chatnb import mock
from chatnb.mock import MockServer

from .kernel import Kernel
from .servers import wait_until_serving

FIXTURES = Path(__file__).parent / "fixtures"
RECORDINGS = sorted((FIXTURES / "openai-recordings").glob("*.bin"))

#: The slow tier (docs/testing.md): tests that start a kernel, a server process, a browser or a
#: fresh environment carry ``slow`` and the finer marker of what they start, so that
#: ``pytest tests -m "not slow"`` runs the rest in a minute or two. Marked here, not by hand:
#: a test that uses one of these fixtures (directly or through another fixture)...
SLOW_FIXTURES = {
    "kernel": "kernel",
    "served": "server",
    "browser": "browser",
    "wheel": "environment",
}
#: ...or names one of these in its body...
SLOW_NAMES = {
    "chatnb_serve": "server",
    "chatnb_serve_process": "server",
    "NotebookClient": "kernel",
}
#: ...or is a notebook cell (nbval), or carries a finer marker (a module's ``pytestmark``).
TIERS = ("kernel", "server", "browser", "environment")


def _tiers(item: pytest.Item) -> set[str]:
    fixtures = getattr(item, "fixturenames", ())
    tiers = {tier for name, tier in SLOW_FIXTURES.items() if name in fixtures}
    code = getattr(getattr(item, "function", None), "__code__", None)
    names = set(code.co_names) if code is not None else set()
    tiers |= {tier for name, tier in SLOW_NAMES.items() if name in names}
    if item.path.suffix == ".ipynb":
        tiers.add("kernel")
    return tiers | {tier for tier in TIERS if item.get_closest_marker(tier) is not None}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tiers = _tiers(item)
        for tier in sorted(tiers):
            item.add_marker(tier)
        if tiers:
            item.add_marker("slow")


def recording_frames(path: Path) -> list[str]:
    """The payloads of a recording's ``data:`` frames, ``[DONE]`` excluded."""
    frames = []
    for block in path.read_bytes().decode().split("\n\n"):
        if block.startswith("data: ") and block != "data: [DONE]":
            frames.append(block[len("data: ") :])
    return frames


@pytest.fixture(params=RECORDINGS, ids=lambda p: p.name[:8])
def recording(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


@pytest.fixture(scope="session")
def kernel() -> Iterator[Kernel]:
    """One real IPython kernel for the session, always shut down."""
    started = Kernel()
    try:
        yield started
    finally:
        started.close()


ClientFactory = Callable[..., openai.OpenAI]


@pytest.fixture(params=["in-process", "http"])
def make_client(request: pytest.FixtureRequest) -> Iterator[ClientFactory]:
    """Builds an openai client on a fresh mock; HTTP servers are stopped at teardown."""
    servers: list[MockServer] = []

    def factory(
        reply: Any = "Streaming **works**, and so does `code`.",
        *,
        api_key: str | None = None,
        **options: Any,
    ) -> openai.OpenAI:
        if request.param == "in-process":
            return mock.client(reply, api_key=api_key, strict=True, **options)
        server = MockServer(reply, api_key=api_key, **options).start()
        servers.append(server)
        return openai.OpenAI(
            base_url=server.url, api_key=api_key or "unused", _strict_response_validation=True
        )

    yield factory
    for server in servers:
        server.stop()


@contextmanager
def chatnb_serve_process(*flags: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``chatnb serve`` as a user starts it: its own process on a free port, with ``flags``;
    always stopped. Yields its base URL (``.../v1``) and the process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "chatnb", "serve", "--port", str(port), *flags]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/health", process)
        yield f"http://127.0.0.1:{port}/v1", process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


@contextmanager
def chatnb_serve(*flags: str) -> Iterator[str]:
    """:func:`chatnb_serve_process`, for tests that only need its URL."""
    with chatnb_serve_process(*flags) as (url, _):
        yield url
