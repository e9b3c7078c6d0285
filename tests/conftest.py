"""Shared fixtures: the real OpenAI recordings and the CommonMark examples."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .kernel import Kernel

FIXTURES = Path(__file__).parent / "fixtures"
RECORDINGS = sorted((FIXTURES / "openai-recordings").glob("*.bin"))


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
