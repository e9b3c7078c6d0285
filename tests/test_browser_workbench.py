"""The workbench's grids in a real browser: ``chatnb.compare`` and a small experiment in
JupyterLab and Notebook 7 (Chromium), every answer under its own column: in the live grid of
widgets the answers stream into, and in the static table that replaces it when the run ends
(what a saved notebook keeps). The live grid is checked in cells that keep it (its
``Grid.finish`` turned off), the table in cells run as a user runs them.

Each answer carries a marker, ``mark:<prompt>:<model>``, so the check is exact: the page's
boxes (``getBoundingClientRect``) must put each answer cell inside its model's column header
horizontally, below the header and in its prompt's row (under that prompt's label, above the
next one), one cell per prompt and model, and no cell may overlap another. The notebook ends
with a control: the layout chatnb had before (one grid whose prompt labels span the columns
with ``grid_column``, which never reaches the page: ipywidgets #2334) must fail the same
check, so a check that sees nothing cannot pass. A bigger experiment checks the end of a run:
the live table has padded cells while it fills in, one table is left at the end (the progress
and its table replaced), and ``res`` in the next cell shows the summary.

Uses the server and browser of ``tests/test_browser.py``; the notebook is written into the
server's folder through its contents API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from .test_browser import FRONTENDS, SCREENSHOTS, browser, server, start_run_all  # noqa: F401
from .test_browser_hostile import put_notebook

MODELS = ("gpt-4o", "gpt-4o-mini")
COMPARED = ("q1", "q2", "q3")
TRIED = ("e1", "e2", "e3")  # asked twice each: rows "e1 (#1)", "e1 (#2)", ...

SETUP = f"""import chatnb
from chatnb import Chatbot
from chatnb.experiments import contains

def reply(request):
    # The marker the browser test reads: which prompt, which model.
    return f"mark:{{request.messages[-1].content}}:{{request.model}} answered."

bot = Chatbot.mock(reply, itl_ms=1)
MODELS = [{{"name": m, "model": m}} for m in {MODELS!r}]"""

# The layout before the fix (git show 9f30d56^:chatnb/workbench/compare.py): one GridBox, each
# prompt's label asked to span every column with grid_column.
BROKEN = f"""import ipywidgets as widgets
import chatnb.workbench.compare as compare_module

def one_grid(prompts, names):
    n = len(names)
    header = [widgets.HTML(f"<b>{{name}}</b>") for name in names]
    outputs = [[widgets.Output() for _ in names] for _ in prompts]
    children = []
    for prompt, row in zip(prompts, outputs):
        span = widgets.Layout(grid_column=f"1 / span {{n}}")
        children += [widgets.HTML(f"<i>{{prompt}}</i>", layout=span), *row]
    columns = widgets.Layout(grid_template_columns=f"repeat({{n}}, minmax(0, 1fr))", grid_gap="8px")
    return widgets.GridBox(header + children, layout=columns), outputs

fixed, compare_module._grid_box = compare_module._grid_box, one_grid
finish, compare_module.Grid.finish = compare_module.Grid.finish, lambda grid, answers: None
try:
    await chatnb.compare({list(COMPARED)!r}, MODELS, bot=bot)
finally:
    compare_module._grid_box, compare_module.Grid.finish = fixed, finish"""

# The live grid, kept after the run: the grid as it is while answers stream.
KEEP_GRID = """import chatnb.workbench.compare as compare_module

finish, compare_module.Grid.finish = compare_module.Grid.finish, lambda grid, answers: None
try:
    {}
finally:
    compare_module.Grid.finish = finish"""

CELLS = [
    SETUP,
    f"comparison = await chatnb.compare({list(COMPARED)!r}, MODELS, bot=bot)",
    f"small = await chatnb.experiment({list(TRIED)!r}, MODELS, repeats=2, "
    "scorers=[contains('mark')], bot=bot)",
    # 30 trials (over the grid's 24): a progress bar and a live table, replaced at the end.
    "slow = Chatbot.mock(reply, ttft_ms=250)\n"
    "res = await chatnb.experiment([f'b{i}' for i in range(15)], MODELS, "
    "scorers=[contains('mark')], bot=slow, concurrency=2)",
    "res",
    BROKEN,
    KEEP_GRID.format(f"await chatnb.compare({list(COMPARED)!r}, MODELS, bot=bot)"),
    KEEP_GRID.format(
        f"await chatnb.experiment({list(TRIED)!r}, MODELS, repeats=2, "
        "scorers=[contains('mark')], bot=bot)"
    ),
    'print("all shown")',
]
COMPARE, SMALL, BIG, RES, CONTROL, LIVE_COMPARE, LIVE_SMALL = 1, 2, 3, 4, 5, 6, 7

#: Where :data:`LAYOUT` looks: in the live grid, the widgets (a header or a label is an HTML
#: widget, an answer cell an Output widget); in the finished grid, the cell's first table
#: (a header is a ``th``, a label a ``td`` spanning the columns, an answer cell any other
#: ``td``).
LIVE = {"table": False, "named": ".widget-html", "cells": ".widget-output"}
STATIC = {"table": True, "named": "th, td[colspan]", "cells": "td:not([colspan])"}

# In one cell's outputs (:data:`LIVE` or :data:`STATIC` says where): the header of each
# column (whose text is a model's name), the label of each row (whose text is a row's label),
# and each answer cell with the marker it shows; then every way the boxes can be wrong.
LAYOUT = """([cell, models, rows, where]) => {
    const box = (el) => el.getBoundingClientRect();
    const text = (el) => el.innerText.trim();
    const root = where.table ? cell.querySelector('.jp-OutputArea-output table') : cell;
    if (!root) return {problems: ['no table'], cells: 0};
    const htmls = [...root.querySelectorAll(where.named)];
    const headers = Object.fromEntries(models.map(m => [m, htmls.filter(h => text(h) === m)]));
    const labels = rows.map(r => [r, htmls.filter(h => text(h) === r)]);
    // The answer cells: not inside another (a live answer shows Output widgets inside).
    const outputs = [...root.querySelectorAll(where.cells)]
        .filter(el => !el.parentElement.closest(where.cells));
    const cells = outputs.map(el => {
        const found = /mark:(\\S+):(\\S+) answered/.exec(el.innerText);
        const style = getComputedStyle(el);
        return {el, prompt: found && found[1], model: found && found[2],
                padding: ['Left', 'Right'].map(s => parseFloat(style['padding' + s]))};
    });
    const problems = [];
    for (const [m, found] of Object.entries(headers))
        if (found.length !== 1) problems.push(`${found.length} headers for ${m}`);
    for (const [r, found] of labels)
        if (found.length !== 1) problems.push(`${found.length} labels for ${r}`);
    if (problems.length) return {problems, cells: cells.length};
    const top = labels.map(([r, [l]]) => [r, box(l)]).sort((a, b) => a[1].top - b[1].top);
    const seen = {};
    for (const c of cells) {
        const b = box(c.el), name = `${c.prompt}:${c.model}`;
        if (!c.prompt || !models.includes(c.model)) { problems.push(`no marker: ${c.el.innerText}`); continue; }
        const h = box(headers[c.model][0]);
        if (b.left < h.left - 1 || b.right > h.right + 1)
            problems.push(`${name} [${b.left}, ${b.right}] outside its header [${h.left}, ${h.right}]`);
        if (b.top < h.bottom - 1) problems.push(`${name} not below its header`);
        const i = top.findLastIndex(([, l]) => l.bottom <= b.top + 1);
        const row = i < 0 ? null : top[i][0];
        if (row === null || row.split(' ')[0] !== c.prompt)
            problems.push(`${name} in the row of ${row}`);
        else if (i + 1 < top.length && b.bottom > top[i + 1][1].top + 1)
            problems.push(`${name} runs into the row below`);
        const key = `${row}:${c.model}`;
        if (seen[key]) problems.push(`two cells in row ${row} under ${c.model}`);
        seen[key] = b;
        if (!(c.padding[0] > 0 && c.padding[1] > 0)) problems.push(`${name} has no padding`);
    }
    const all = [...Object.values(headers).flat(), ...labels.flatMap(([, l]) => l),
                 ...cells.map(c => c.el)];
    for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) {
        const a = box(all[i]), b = box(all[j]);
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const v = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 0.5 && v > 0.5) problems.push(`overlap: ${text(all[i])} / ${text(all[j])}`);
    }
    for (const [r] of labels) for (const m of models)
        if (!seen[`${r}:${m}`]) problems.push(`no cell in row ${r} under ${m}`);
    return {problems, cells: cells.length};
}"""


def layout(cell: Locator, rows: list[str], where: dict[str, Any]) -> dict[str, Any]:
    """What :data:`LAYOUT` finds in ``cell`` (``where``: :data:`LIVE` or :data:`STATIC`)
    once every answer cell shows its marker."""
    cell.page.wait_for_function(
        """([cell, n, where]) => [...cell.querySelectorAll(where.cells)]
                  .filter(o => !o.parentElement.closest(where.cells))
                  .filter(o => / answered/.test(o.innerText)).length >= n""",
        arg=[cell.element_handle(), len(rows) * len(MODELS), where],
        timeout=60_000,
    )
    result: dict[str, Any] = cell.evaluate(
        f"(cell, arg) => ({LAYOUT})([cell, ...arg])", [list(MODELS), rows, where]
    )
    return result


def padded(cells: Locator) -> bool:
    """Whether the table cells ``cells`` have room on both sides of their text."""
    assert cells.count() > 0
    sides: list[float] = cells.evaluate_all(
        """cells => cells.flatMap(c => {
            const s = getComputedStyle(c);
            return [parseFloat(s.paddingLeft), parseFloat(s.paddingRight)];
        })"""
    )
    return min(sides) >= 2


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_compare_and_the_experiment_grid_put_each_answer_under_its_column(
    server: Callable[[str], str],  # noqa: F811
    browser: Any,  # noqa: F811
    frontend: str,
) -> None:
    name = f"workbench-{frontend}.ipynb"
    url = server(FRONTENDS[frontend].format(name=name))
    put_notebook(url, name, CELLS)
    page: Page = browser.new_page(viewport={"width": 1200, "height": 900})
    start_run_all(page, url)
    cells = page.locator(".jp-CodeCell")
    # While the big experiment runs: its table of results so far, with padded cells.
    live = cells.nth(BIG).locator(".widget-html table td")
    expect(live.first).to_be_visible(timeout=180_000)
    assert padded(cells.nth(BIG).locator(".widget-html table :is(td, th)"))
    expect(page.locator(".jp-OutputArea-output", has_text="all shown")).to_be_visible(
        timeout=180_000
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shots = [(COMPARE, "compare"), (SMALL, "grid"), (CONTROL, "broken")]
    shots += [(LIVE_COMPARE, "compare-live"), (LIVE_SMALL, "grid-live")]
    for number, what in shots:
        cells.nth(number).scroll_into_view_if_needed()
        cells.nth(number).screenshot(path=str(SCREENSHOTS / f"{what}-{frontend}.png"))

    rows = [f"{prompt} (#{r})" for prompt in TRIED for r in (1, 2)]
    # The live grids, as the answers stream into them.
    compared = layout(cells.nth(LIVE_COMPARE), list(COMPARED), LIVE)
    assert compared == {"problems": [], "cells": 6}, compared
    grid = layout(cells.nth(LIVE_SMALL), rows, LIVE)
    assert grid == {"problems": [], "cells": 12}, grid
    # The finished ones: one static table each in place of the grid, no widget left, the
    # same check passing on it.
    for number, labels in [(COMPARE, list(COMPARED)), (SMALL, rows)]:
        assert cells.nth(number).locator(".jupyter-widgets").count() == 0
        found = layout(cells.nth(number), labels, STATIC)
        assert found == {"problems": [], "cells": len(labels) * len(MODELS)}, found
    expect(cells.nth(SMALL).locator("table")).to_have_count(2)  # the summary, under the grid
    # The control: the old layout (a label spanning the columns with grid_column) fails the
    # same check, answers landing under the wrong model or in the wrong row.
    broken = layout(cells.nth(CONTROL), list(COMPARED), LIVE)
    assert any("outside its header" in p for p in broken["problems"]), broken

    # The big experiment ends with one table, in place of the progress and its live table,
    # with padded cells; `res` in the next cell shows the same table.
    outputs = cells.nth(BIG).locator(".jp-OutputArea-output")
    expect(outputs).to_have_count(1)
    assert cells.nth(BIG).locator(".jupyter-widgets, progress").count() == 0
    table = outputs.locator("table")
    expect(table).to_have_count(1)
    # Every trial counted (the live table, a second behind, is gone): 15 per variant.
    counts = [row.split("\t")[:2] for row in table.locator("tbody tr").all_inner_texts()]
    assert counts == [[model, "15"] for model in MODELS], counts
    assert padded(table.locator("td, th"))
    shown = cells.nth(RES).locator(".jp-OutputArea-output table")
    expect(shown).to_have_count(1)
    assert shown.inner_text() == table.inner_text()
    page.close()
