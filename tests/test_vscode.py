"""VS Code's notebook renderer as a second oracle: code-server on 127.0.0.1, driven by Chromium.

code-server (VS Code in a browser, installed from npm into a cache folder by tests/vscode.py)
opens saved notebooks with no extension from a marketplace: its built-in ``ipynb`` extension
reads them, markdown-it renders Markdown outputs and ``@vscode/markdown-it-katex`` typesets
math. So what is checked here is what a VS Code user sees of a saved notebook (and of the
fallback path's outputs while an answer streams), not what JupyterLab shows:

- every committed notebook renders with no KaTeX error, every Markdown output rendered, its
  math where chatnb's math model finds it and no delimiter left as text;
- each corpus answer (tests/corpus.py) cut into the splitter's parts, each part an output of
  its own, reads as the whole answer in one output: the same elements, text and math.

Needs npm (the install takes a few minutes once) and Chromium; without them it is skipped,
except under CI, where Chromium must be there (the browser test says so too).
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from chatnb.markdown import MarkdownSplitter
from chatnb.markdown.math_text import math_scan

from .corpus import ANSWERS
from .lab import free_port
from .servers import wait_until_serving
from .test_browser import browser  # noqa: F401  (the fixture: one Chromium for the module)
from .vscode import Install, install, server_command

ROOT = Path(__file__).parents[1]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

try:
    from playwright.sync_api import Frame, Page
except ImportError as missing:  # pragma: no cover - the dev extra installs it
    pytest.skip(f"needs the dev extra ({missing})", allow_module_level=True)

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: install Debian's chromium first")
    pytest.skip("no chromium on PATH (apt-get install chromium)", allow_module_level=True)
if shutil.which("npm") is None:
    pytest.skip("no npm on PATH: code-server is installed with it", allow_module_level=True)

# The first test installs code-server (minutes on a fresh machine, within its fixture's setup,
# which the timeout counts too); later sessions reuse the install.
pytestmark = pytest.mark.timeout(1_800)


@dataclass(frozen=True)
class CodeServer:
    url: str
    folder: Path


@pytest.fixture(scope="module")
def code_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CodeServer]:
    """code-server on 127.0.0.1 serving a fresh folder, no password; always stopped."""
    found: Install = install()
    folder = tmp_path_factory.mktemp("vscode-workspace")
    state = tmp_path_factory.mktemp("vscode-state")
    port = free_port()
    command, env = server_command(found, folder, state, port)
    log = (state / "server.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{url}/healthz", server, state / "server.log")
        yield CodeServer(url, folder)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


# Code blocks are compared by their language, not their text: VS Code highlights a code block
# by an id made of the time in milliseconds and the block's number within its output, so two
# outputs rendered in the same millisecond swap their highlighted code (its webview preload,
# ``requestHighlightCodeBlock``): a block can show another output's code, whatever the
# Markdown says. chatnb cannot change that; the text of code is checked in JupyterLab.
#
# What a reader sees of each cell's Markdown outputs, in the notebook's webview: for each cell
# with outputs (in the order they stand on the page), the elements of its outputs' rendered
# Markdown (each in a shadow root): depth, tag, list numbering, link targets, own text, and each
# KaTeX item (display or inline, and its TeX) or KaTeX error (its TeX).
CELLS = """() => {
    const walk = (node, depth, out) => {
        for (const el of node.children) {
            const tag = el.tagName.toLowerCase();
            if (el.classList.contains('katex-error')) {
                out.push(depth + ' katex-error:' + (el.getAttribute('title') || el.textContent));
                continue;
            }
            if (el.classList.contains('katex-display') || el.classList.contains('katex')) {
                const tex = el.querySelector('annotation');
                out.push(depth + ' katex:' + (el.closest('.katex-display') ? 'display' : 'inline')
                         + ':' + (tex ? tex.textContent : '?').replace(/\\s+/g, ''));
                continue;
            }
            if (tag === 'pre') {  // code: its language only (see CODE_BLOCKS below)
                const code = el.querySelector('code');
                out.push(depth + ' pre ' + (code ? code.className : ''));
                continue;
            }
            const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent)
                .join('').replace(/\\s+/g, ' ').trim();
            const extra = tag === 'ol' ? ' start=' + (el.getAttribute('start') || '1')
                : tag === 'a' && el.getAttribute('href') ? ' href=' + el.getAttribute('href')
                : '';
            out.push(depth + ' ' + tag + extra + (own ? ' | ' + own : ''));
            walk(el, depth + 1, out);
        }
    };
    const cells = [...document.querySelectorAll('#container > .cell_container')];
    cells.sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top);
    return cells.map(cell => {
        const previews = [...cell.querySelectorAll('.output')]
            .map(o => o.shadowRoot && o.shadowRoot.querySelector('#preview'))
            .filter(p => p);
        const signature = [];
        previews.forEach(p => walk(p, 0, signature));
        return {outputs: previews.length, signature: signature,
                raw: previews.map(p => {  // the text outside code and typeset math
                    const copy = p.cloneNode(true);
                    copy.querySelectorAll('pre, code, .katex, .katex-error')
                        .forEach(e => e.remove());
                    return copy.textContent;
                }).join('\\n')};
    });
}"""
SCROLLED = """() => document.querySelector('.notebook-editor .monaco-list-rows')?.style.top"""
RENDERED = """() => [...document.querySelectorAll('#container .output')]
    .filter(o => o.shadowRoot && o.shadowRoot.querySelector('#preview')).length"""


def markdown_outputs(path: Path) -> list[list[str]]:
    """The Markdown of each code cell's outputs, for the cells that have any."""
    notebook = nbformat.read(path, as_version=4)
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        found = [
            o["data"]["text/markdown"] for o in cell.outputs if "text/markdown" in o.get("data", {})
        ]
        if found:
            cells.append(found)
    return cells


def webview(page: Page) -> Frame:
    """The frame in which VS Code renders the open notebook's outputs."""
    for frame in page.frames:
        if frame.is_detached():  # a closed notebook's
            continue
        try:
            if frame.evaluate("() => !!document.querySelector('#container > .cell_container')"):
                return frame
        except Exception:  # a frame still loading or gone: not this one
            continue
    raise LookupError("no notebook webview yet")


def open_workspace(browser: Any, server: CodeServer) -> Page:  # noqa: F811
    page: Page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server.url}/?folder={server.folder}")
    return page


def close_notebook(page: Page) -> None:
    page.locator(".tab.active").hover()
    page.locator(".tab.active .tab-actions .action-label").first.click()
    page.locator(".notebook-editor").first.wait_for(state="detached", timeout=30_000)


def open_notebook(page: Page, name: str, outputs: int) -> list[dict[str, Any]]:
    """Open ``name`` (in the served folder) and scroll through it until its ``outputs``
    Markdown outputs have rendered (VS Code renders outputs as their cells come into view);
    returns :data:`CELLS` of the notebook."""
    page.locator(".explorer-folders-view").get_by_text(name, exact=True).click(timeout=120_000)
    editor = page.locator(".notebook-editor").first
    editor.wait_for(timeout=60_000)
    box = editor.bounding_box() or {"x": 700, "y": 500, "width": 0, "height": 0}
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    if outputs == 0:
        return []
    frame, rendered, still = None, 0, 0
    for _ in range(2_000):  # a page down at a time, until all have rendered or none comes
        try:
            frame = frame or webview(page)
            rendered = frame.evaluate(RENDERED)
        except LookupError:
            pass
        if rendered >= outputs or still > 300:  # the bottom, and nothing new for a while
            break
        at = page.evaluate(SCROLLED)
        page.mouse.wheel(0, 900)
        page.wait_for_timeout(50)
        still = still + 1 if page.evaluate(SCROLLED) == at else 0
    if frame is None or rendered < outputs:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"vscode-failed-{name}.png"))
        raise AssertionError(f"{name}: {rendered} of {outputs} Markdown outputs rendered")
    cells: list[dict[str, Any]] = frame.evaluate(CELLS)
    return cells


def to_the_top(page: Page) -> None:
    for _ in range(400):
        at = page.evaluate(SCROLLED)
        if at in (None, "", "0px"):
            break
        page.mouse.wheel(0, -5_000)
        page.wait_for_timeout(30)
    page.wait_for_timeout(1_000)  # the webview follows the list


def model_math(markdown: str) -> list[str]:
    """The math chatnb's model finds in ``markdown`` (after its rewrite), as the signature
    writes KaTeX items: display or inline, and the TeX without spaces."""
    found = []
    for start, end in math_scan(markdown).spans:
        text = markdown[start:end]
        if text.startswith("$$"):
            found.append("display:" + text[2:-2])
        elif text.startswith("$"):
            found.append("inline:" + text[1:-1])
        else:  # \begin{..}..\end{..}: KaTeX typesets the environment whole
            found.append("display:" + text)
    return ["".join(item.split()) for item in found]


def shown_math(signature: list[str]) -> list[str]:
    return [line.split(" katex:", 1)[1] for line in signature if " katex:" in line]


#: The 100 KB answer is left out: scrolling VS Code through it whole and in 524 parts would
#: take minutes; the 20 KB one (104 parts) is in.
LONGEST = 25_000


@dataclass(frozen=True)
class Cut:
    """A corpus answer as the splitter shows it: whole, and in parts (None: revised, the
    stream shows the whole again at the end)."""

    name: str
    whole: str
    parts: list[str] | None


def cut(name: str, answer: str) -> Cut:
    """Cut after every character (every 40 for long answers: a table cut character by
    character costs a parse of the whole table each time) as the stream may cut."""
    splitter = MarkdownSplitter(allow_html=False, allow_remote_images=False)
    step = 1 if len(answer) <= 1_000 else 40
    for at in range(0, len(answer), step):
        splitter.feed(answer[at : at + step])
        splitter.advance()
    splitter.advance(final=True)
    parts = None if splitter.revised else [part.markdown for part in splitter.parts]
    return Cut(name, splitter.whole(), parts)


def markdown_cell(outputs: list[str]) -> Any:
    cell = nbformat.v4.new_code_cell("bot.ask(...)")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/markdown": markdown})
        for markdown in outputs
    ]
    return cell


def write_notebook(path: Path, cells: list[list[str]]) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [markdown_cell(outputs) for outputs in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, path)


def test_committed_notebooks_render_in_vscode(
    code_server: CodeServer,
    browser: Any,  # noqa: F811
) -> None:
    """Every committed notebook opens in VS Code with every Markdown output rendered, no KaTeX
    error, its math where chatnb's math model finds it, and no math delimiter left as text."""
    for path in NOTEBOOKS:
        shutil.copy(path, code_server.folder / path.name)
    page, problems, checked = open_workspace(browser, code_server), [], 0
    for path in NOTEBOOKS:
        saved = markdown_outputs(path)
        cells = open_notebook(page, path.name, sum(map(len, saved)))
        if path.name.startswith("01_"):
            to_the_top(page)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "quickstart-vscode.png"))
        close_notebook(page)
        shown = [cell for cell in cells if cell["outputs"]]
        assert len(shown) == len(saved), path.name
        checked += sum(map(len, saved))
        for number, (outputs, cell) in enumerate(zip(saved, shown, strict=True)):
            where = f"{path.name}, answer {number + 1}"
            expected = [m for markdown in outputs for m in model_math(markdown)]
            errors = [line for line in cell["signature"] if " katex-error:" in line]
            if errors or shown_math(cell["signature"]) != expected:
                problems.append(f"{where}: math {shown_math(cell['signature'])} != {expected}")
            if any(delimiter in cell["raw"] for delimiter in ("$$", "\\[", "\\(")):
                problems.append(f"{where}: a delimiter left as text: {cell['raw'][:300]}")
    page.close()
    assert problems == [], "\n".join(problems)
    assert checked >= 20  # not vacuous: the committed notebooks' answers were all read


def test_streamed_parts_render_as_the_whole_answer_in_vscode(
    code_server: CodeServer,
    browser: Any,  # noqa: F811
) -> None:
    """VS Code as the oracle: each corpus answer cut into the splitter's parts, each part an
    output of its own (as the fallback path shows them while an answer streams), renders as
    the whole answer in one output: the same elements, text and KaTeX items; the whole has
    no KaTeX error and its math is what chatnb's math model finds."""
    cuts = [cut(name, answer) for name, answer in ANSWERS.items() if len(answer) <= LONGEST]
    cells = [outputs for c in cuts for outputs in ([c.whole], c.parts or [c.whole])]
    write_notebook(code_server.folder / "corpus.ipynb", cells)
    page = open_workspace(browser, code_server)
    shown = open_notebook(page, "corpus.ipynb", sum(map(len, cells)))
    to_the_top(page)  # the first answers' math, for the eye
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "math-vscode.png"))
    page.close()
    assert len(shown) == len(cells)
    differences, identical, compared = [], 0, 0
    for i, c in enumerate(cuts):
        whole, parts = shown[2 * i], shown[2 * i + 1]
        assert whole["outputs"] == 1 and parts["outputs"] == len(cells[2 * i + 1]), c.name
        errors = [line for line in whole["signature"] if " katex-error:" in line]
        if errors:
            differences.append(f"{c.name}: KaTeX errors {errors}")
        if shown_math(whole["signature"]) != model_math(c.whole):
            differences.append(
                f"{c.name}: VS Code's math {shown_math(whole['signature'])} "
                f"!= the model's {model_math(c.whole)}"
            )
        if any(delimiter in whole["raw"] for delimiter in ("$$", "\\[", "\\(")):
            differences.append(f"{c.name}: a delimiter left as text: {whole['raw'][:300]}")
        if c.parts is None:
            continue
        compared += 1
        if parts["signature"] == whole["signature"]:
            identical += 1
        else:
            diff = difflib.unified_diff(whole["signature"], parts["signature"], lineterm="")
            differences.append(f"{c.name} in parts:\n" + "\n".join(list(diff)[2:]))
    print(f"VS Code: {identical}/{compared} answers in parts render as the whole")
    assert differences == [], "\n\n".join(differences)  # whole (-) and in parts (+)
    assert sum(len(c.parts or []) > 1 for c in cuts) >= 20  # cut answers, each part its own
