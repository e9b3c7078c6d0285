"""The prompt-versions notebook's checks, under pytest: its cells run from its committed cache
with the model replaced by one that raises and every socket refused, and its last cell (the
checks, then ``.require()``) passes, so the answers came from the cache and nowhere else."""

from __future__ import annotations

import ast
import socket
from pathlib import Path
from typing import Any, NoReturn

import nbformat
import pytest

from chatnb import Chatbot
from chatnb.cache import Cache
from chatnb.errors import ExpectationError
from chatnb.experiments.pytest_plugin import chatnb_replay  # noqa: F401  (the fixture)

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "08_prompt_versions.ipynb"
#: The cell that plays the model; the test puts a model that must never be asked in its place.
MODEL_TAG = "model"


def refuse(request: Any) -> NoReturn:
    raise RuntimeError("the model was asked: an answer did not come from the cache")


def refuse_sockets(*args: Any, **kwargs: Any) -> NoReturn:
    raise OSError("no network in this test")


def code_cells() -> list[tuple[list[str], str]]:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    return [
        (cell.metadata.get("tags", []), cell.source)
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


def run_cells(cells: list[tuple[list[str], str]], replay: Any) -> dict[str, Any]:
    """Each cell as the kernel would run it (top-level ``await`` included), in one namespace;
    the model cell replaced by a bot on the same cache whose model raises."""
    namespace: dict[str, Any] = {"__name__": "notebook"}
    for tags, source in cells:
        if MODEL_TAG in tags:
            cache = Cache(namespace["path"], "replay")
            namespace["bot"] = Chatbot.mock(refuse, cache=cache, display=False)
            continue
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        awaiting = eval(compile(source, str(NOTEBOOK), "exec", flags=flags), namespace)
        if awaiting is not None:  # a cell with a top-level await is a coroutine to run
            replay(awaiting)
    return namespace


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listening, and nothing to reach: any connection is an error."""
    monkeypatch.setattr(socket.socket, "connect", refuse_sockets)
    monkeypatch.setattr(socket, "create_connection", refuse_sockets)
    monkeypatch.chdir(NOTEBOOK.parent)  # the notebook opens its cache beside it


def test_the_notebooks_checks_pass_from_its_committed_cache(
    chatnb_replay: Any,  # noqa: F811
    offline: None,
) -> None:
    cells = code_cells()
    assert [MODEL_TAG in tags for tags, _ in cells].count(True) == 1
    assert ".require()" in cells[-1][1]  # the notebook ends with its assertion
    namespace = run_cells(cells, chatnb_replay)  # the last cell raises if a check fails
    results = namespace["results"]
    assert len(results) == 20 * 3 * 2 and all(t.error is None for t in results)
    assert namespace["mode"] == "replay" and namespace["path"] != namespace["recorded"]
    assert results.check(*namespace["CHECKS"]).passed
    assert results.paired("v2", "v3", "names_the_capital").verdict().startswith("v3 is better")


def test_a_stricter_check_fails_in_words(
    chatnb_replay: Any,  # noqa: F811
    offline: None,
) -> None:
    """The same replay, held to a bar v1 does not meet: a readable failure, not a pass."""
    from chatnb.experiments import checks

    namespace = run_cells(code_cells()[:-1], chatnb_replay)
    strict = [checks.pass_rate("equals capital", at_least=0.8, variant="v1")]
    with pytest.raises(ExpectationError, match=r"v1: equals capital pass rate >= 80%.*0% of 20"):
        namespace["results"].check(*strict).require()
