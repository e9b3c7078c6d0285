"""The streamed outputs of the example notebooks, which nbval cannot check.

nbval keeps only the first version of an output that is later updated (it ignores
``update_display_data``), so cells that stream are marked ``NBVAL_IGNORE_OUTPUT`` for it.
Here the notebooks run under nbclient, which applies the updates as a frontend does, and each
such cell's Markdown, joined in display order, must equal the stored one: how the answer is cut
into outputs depends on timing, what they show together does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def shown(cell: Any) -> tuple[str, list[str]]:
    markdown = "".join(
        o["data"]["text/markdown"] for o in cell.outputs if "text/markdown" in o.get("data", {})
    )
    notes = [
        o["data"]["text/plain"] for o in cell.outputs if o.get("data", {}).keys() == {"text/plain"}
    ]
    return markdown, notes


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_streamed_cells_show_what_was_stored(path: Path) -> None:
    stored = nbformat.read(path, as_version=4)
    fresh = nbformat.read(path, as_version=4)
    NotebookClient(fresh, timeout=300, kernel_name="python3").execute()
    streamed = [
        index
        for index, cell in enumerate(stored.cells)
        if cell.cell_type == "code" and "NBVAL_IGNORE_OUTPUT" in cell.source
    ]
    assert streamed, "no streamed cell: nothing to check"
    for index in streamed:
        assert shown(fresh.cells[index]) == shown(stored.cells[index]), stored.cells[index].source
        assert shown(fresh.cells[index])[0], "a streamed cell showed no Markdown"
