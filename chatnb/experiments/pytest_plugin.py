"""pytest: an experiment's checks as a test, replayed from its record/replay cache.

::

    # conftest.py
    pytest_plugins = ["chatnb.experiments.pytest_plugin"]

    # test_prompts.py
    def test_the_prompt_still_holds(chatnb_replay):
        results = chatnb_replay(experiment(INPUTS, VARIANTS, scorers=SCORERS, bot=BOT))
        results.check(*CHECKS).require()   # fails with the report of the failed checks

``chatnb_replay`` sets ``CHATNB_CACHE_MODE=replay`` for the test (a Chatbot built in it never
asks a server: an answer that was not recorded is a ``CacheMissError``), gives the openai
client a placeholder key when there is none (replays need no key, but the client wants one),
and runs the experiment's coroutine to its end.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from ..cache import MODE_ENV

__all__ = ["chatnb_replay"]

T = TypeVar("T")

#: What the openai client gets for a key in a replay, where no request reaches a server.
PLACEHOLDER_KEY = "replay-needs-no-key"


@pytest.fixture
def chatnb_replay(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[Coroutine[Any, Any, T]], T]:
    """Runs a coroutine (``experiment(...)``) with every new cache in replay mode."""
    monkeypatch.setenv(MODE_ENV, "replay")
    if not os.environ.get("OPENAI_API_KEY"):
        monkeypatch.setenv("OPENAI_API_KEY", PLACEHOLDER_KEY)

    def run(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run(coroutine)

    return run
