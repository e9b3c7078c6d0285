"""The streamed outputs of the example notebooks, which nbval cannot check.

nbval keeps only the first version of an output that is later updated (it ignores
``update_display_data``), so cells that stream are tagged ``nbval-ignore-output`` for it.
Here the notebooks run under nbclient, which applies the updates as a frontend does, and each
such cell's Markdown, joined in display order, must equal the stored one: how the answer is cut
into outputs depends on timing, what they show together does not.
"""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from .widget_state import saved_models, shown_models

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
SKIPPED_BY_NBVAL = "nbval-ignore-output"


def _sanitizers() -> list[tuple[re.Pattern[str], str]]:
    """The replacements of notebooks/sanitize.cfg, which nbval applies to the other cells."""
    config = configparser.ConfigParser()
    config.read(Path(__file__).parents[1] / "notebooks" / "sanitize.cfg")
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]


SANITIZERS = _sanitizers()


def sanitize(text: str) -> str:
    for pattern, replacement in SANITIZERS:
        text = pattern.sub(replacement, text)
    return text


def skipped_cells(notebook: Any) -> list[int]:
    return [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and SKIPPED_BY_NBVAL in cell.metadata.get("tags", [])
    ]


def shown(cell: Any) -> tuple[str, list[str]]:
    markdown = "".join(
        o["data"]["text/markdown"] for o in cell.outputs if "text/markdown" in o.get("data", {})
    )
    notes = [
        o["data"]["text/plain"] for o in cell.outputs if o.get("data", {}).keys() == {"text/plain"}
    ]
    return sanitize(markdown), [sanitize(note) for note in notes]


WITH_SKIPPED_CELLS = [p for p in NOTEBOOKS if skipped_cells(nbformat.read(p, as_version=4))]


@pytest.mark.parametrize("path", WITH_SKIPPED_CELLS, ids=lambda p: p.name)
def test_cells_nbval_skips_show_what_was_stored(path: Path) -> None:
    stored = nbformat.read(path, as_version=4)
    fresh = nbformat.read(path, as_version=4)
    in_its_folder = {"metadata": {"path": str(path.parent)}}  # as nbval and Jupyter run it
    NotebookClient(fresh, timeout=300, kernel_name="python3", resources=in_its_folder).execute()
    for index in skipped_cells(stored):
        assert shown(fresh.cells[index]) == shown(stored.cells[index]), stored.cells[index].source


def test_the_quickstart_streams_checked_markdown() -> None:
    """Guard against a vacuous check: the quickstart's skipped cells do show Markdown."""
    stored = nbformat.read(NOTEBOOKS[0], as_version=4)
    assert all(shown(stored.cells[index])[0] for index in skipped_cells(stored))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_notebooks_hold_finished_answers_as_plain_markdown(path: Path) -> None:
    # What GitHub, nbviewer and a frontend without widgets show: each finished answer as one
    # Markdown output, no empty output left over from streaming, no widget's view for finished
    # work (a live answer, an experiment's progress bar: "0%" in a viewer; compare's grid:
    # "VBox(children=...)"). The one widget kept is the ChatWidget, a tool to use, not a result.
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            assert data.get("text/markdown", "x").strip(), f"an empty Markdown output in {path}"
            if "application/vnd.jupyter.widget-view+json" in data:
                plain = str(data.get("text/plain", ""))
                assert "ChatWidget(" in cell.source, (path.name, index, plain[:200])
                assert not re.search(r"_Live\w*Widget|IntProgress", plain), (path.name, plain)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_notebooks_hold_no_state_of_widgets_no_output_shows(path: Path) -> None:
    # A re-run under nbclient saves every widget the run opened, closed ones too: each live
    # answer's script again. tests/widget_state.py drops them.
    notebook = json.loads(path.read_text(encoding="utf-8"))
    stale = set(saved_models(notebook)) - shown_models(notebook)
    assert not stale, f"run `python -m tests.widget_state notebooks/{path.name}`"
