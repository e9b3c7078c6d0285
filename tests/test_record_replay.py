"""Notebook 06 as a user runs it: recorded against a server on 127.0.0.1 that counts its
requests, run again in a fresh kernel (the server sees nothing new, the answers are the same),
then replayed with the server gone, as CI does with a notebook recorded against a real model."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from chatnb import mock

from .servers import RecordingServer

# Runs the notebook in fresh kernels (nbclient): the slow tier (tests/conftest.py).
pytestmark = pytest.mark.kernel

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "06_record_replay.ipynb"
RECORDED_AT = "http://127.0.0.1:8765/v1"


def _stream(text: str) -> bytes:
    create = mock.client(text).chat.completions.with_streaming_response.create
    with create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True) as r:
        return b"".join(r.iter_bytes())


def _run(folder: Path, url: str) -> list[Any]:
    notebook = nbformat.read(folder / NOTEBOOK.name, as_version=4)
    for cell in notebook.cells:
        cell.source = cell.source.replace(RECORDED_AT, url)
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return notebook.cells


def _answers(cells: list[Any]) -> list[str]:
    return [
        "".join(
            o["data"]["text/markdown"] for o in c.outputs if "text/markdown" in o.get("data", {})
        )
        for c in cells
        if c.cell_type == "code"
    ]


def _printed(cells: list[Any], needle: str) -> str:
    (text,) = [
        o["text"] for c in cells for o in c.get("outputs", []) if needle in o.get("text", "")
    ]
    return str(text)


def test_recorded_once_then_replayed_with_no_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(NOTEBOOK, tmp_path)  # no cache file: everything is recorded afresh
    answers = [_stream(f"Answer number {i}.") for i in range(1, 4)]
    monkeypatch.setenv("CHATNB_CACHE_MODE", "auto")
    with RecordingServer(answers) as server:
        first = _run(tmp_path, server.url)
        asked = len(server.requests)
        second = _run(tmp_path, server.url)  # a fresh kernel: a re-run of the notebook
    assert asked == 3 and len(server.requests) == 3  # ask, regenerate, the last question
    assert _answers(second) == _answers(first)
    assert "Answer number 1." in _answers(first)[1] and "Answer number 2." in _answers(first)[2]
    assert re.findall(r"answered (\w+)", _printed(first, "gpt-4o answered")) == ["miss", "miss"]
    assert re.findall(r"answered (\w+)", _printed(second, "gpt-4o answered")) == ["hit", "hit"]
    monkeypatch.setenv("CHATNB_CACHE_MODE", "replay")  # and the server is gone
    replayed = _run(tmp_path, server.url)
    assert _answers(replayed)[:3] == _answers(first)[:3]
    assert "cache mode: replay" in _printed(replayed, "cache mode")
