"""In a real browser: JupyterLab and Notebook 7 on 127.0.0.1, driven by Chromium (Playwright).

The notebooks are copied without their outputs into a fresh folder, run there with "Run All
Cells", and what the page then shows is checked: the streamed answer rendered as Markdown (a
heading, a table, a code block highlighted by JupyterLab) and the chat widget answering a
question typed into it. Screenshots go to ``build/screenshots/``.

Chromium comes from the system (Debian's ``chromium``; Playwright's own browser download is
not reachable here). Without it the test is skipped, except under CI, where it must run.
"""

from __future__ import annotations

import difflib
import itertools
import json
import os
import re
import secrets
import shutil
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .corpus import ANSWERS
from .lab import free_port, lab_command
from .servers import wait_until_serving
from .test_safety import VECTORS

ROOT = Path(__file__).parents[1]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

try:
    import jupyterlab  # noqa: F401
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError as missing:  # pragma: no cover - the dev extra installs both
    pytest.skip(f"needs the dev extra ({missing})", allow_module_level=True)

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser test: install Debian's chromium first")
    pytest.skip("no chromium on PATH (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """A Jupyter server on 127.0.0.1 (JupyterLab and Notebook 7) serving output-less copies
    of the notebooks; always stopped. Yields: page path -> URL with the token."""
    folder = tmp_path_factory.mktemp("lab")
    live = nbformat.v4.new_notebook()
    live.cells = [nbformat.v4.new_code_cell(LIVE_CELL)]
    live.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(live, folder / "live.ipynb")
    long = nbformat.v4.new_notebook()
    long.cells = [nbformat.v4.new_code_cell(LONG_CELL)]
    long.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(long, folder / "long.ipynb")
    write_fidelity_notebook(folder)
    growing = nbformat.v4.new_notebook()
    growing.cells = [nbformat.v4.new_code_cell(GROWING_CELL)]
    growing.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(growing, folder / "growing.ipynb")
    hostile = nbformat.v4.new_notebook()
    # One cell per answer: a cell shows at most 50 outputs (JupyterLab's maxNumberOutputs).
    hostile.cells = [nbformat.v4.new_code_cell(HOSTILE_CELL)]
    hostile.cells += [nbformat.v4.new_code_cell('bot.ask("next")') for _ in VECTORS]
    hostile.cells += [nbformat.v4.new_code_cell('print("all answers shown")')]
    hostile.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(hostile, folder / "hostile.ipynb")
    for name in [
        "01_quickstart.ipynb",
        "02_prompt_tuning.ipynb",
        "05_tools_and_structured_output.ipynb",
    ]:
        notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(notebook, folder / name)
    port, token = free_port(), secrets.token_hex(16)
    command, env = lab_command(folder, port, token)
    log = (folder / "lab.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{base}/api/status?token={token}", server, folder / "lab.log")
        yield lambda path: f"{base}/{path}{'&' if '?' in path else '?'}token={token}"
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def start_run_all(page: Page, url: str) -> None:
    """Open ``url`` and Run All Cells, once the first cell shows that it ran or is running."""
    page.goto(url)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    # "Run All Cells" can come before the kernel is connected, and then nothing runs: try again
    # until the first cell shows that it ran or is running.
    for _ in range(6):
        page.locator(".jp-Notebook").first.click()
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_text("Run All Cells", exact=True).click()
        try:
            page.wait_for_function(
                """() => /\\[(\\*|\\d+)\\]/.test(
                        document.querySelector('.jp-CodeCell .jp-InputPrompt').textContent)""",
                timeout=15_000,
            )
            return
        except Exception:  # playwright's TimeoutError: not started yet
            continue


def run_all(page: Page, url: str) -> None:
    start_run_all(page, url)
    # Done when every code cell has an execution count and the kernel is idle again.
    try:
        page.wait_for_function(
            """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                      .every(p => /\\[\\d+\\]/.test(p.textContent))""",
            timeout=120_000,
        )
    except Exception as timeout:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "failed_run_all.png"))
        prompts = page.evaluate(
            """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                      .map(p => p.textContent)"""
        )
        raise AssertionError(f"not every cell ran; prompts: {prompts}") from timeout
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    assert (
        page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        .filter(has_text="Traceback")
        .count()
        == 0
    )


FRONTENDS = {
    "jupyterlab": "lab/tree/{name}?reset",  # ?reset: a fresh workspace, only this notebook
    "notebook7": "notebooks/{name}",
}


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_the_streamed_answer_renders_as_markdown(
    server: Callable[[str], str], browser: Any, frontend: str
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    run_all(page, server(FRONTENDS[frontend].format(name="01_quickstart.ipynb")))
    rendered = page.locator(".jp-OutputArea-output.jp-RenderedMarkdown")
    heading = rendered.locator("h1", has_text="A sample answer")
    expect(heading).to_have_count(1)  # waits: the frontend renders Markdown after idle
    assert rendered.locator("table th", has_text="setting").count() == 1
    code = rendered.locator("pre code.language-python")
    assert code.count() >= 1 and code.first.locator("span").count() > 3  # highlighted
    assert "def " in code.first.inner_text()
    heading.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"quickstart-{frontend}.png"))
    # The thinking model's reasoning: folded into a closed <details> above its answer.
    thought = rendered.locator("details", has=page.locator("summary", has_text="Thought for"))
    assert thought.count() == 1 and thought.get_attribute("open") is None
    answer = rendered.locator("strong", has_text="1.5 hours")
    assert thought.evaluate(
        "(details, answer) => !!(details.compareDocumentPosition(answer) & 4)",
        answer.element_handle(),
    )  # the reasoning comes first
    thought.locator("summary").click()  # a reader opens it
    expect(thought.get_by_text("close the gap at 60 + 40 = 100 km/h")).to_be_visible()
    thought.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"thinking-{frontend}.png"))
    # A table of costs shows dollars, not one garbled equation between two "$" signs.
    costs = rendered.locator("table", has=page.locator("th", has_text="estimated cost"))
    assert costs.count() >= 2 and costs.locator("mjx-container, .MathJax").count() == 0
    assert costs.first.locator("td", has_text="$0.0").count() == 2
    page.close()


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_the_chat_widget_renders_and_answers(
    server: Callable[[str], str], browser: Any, frontend: str
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    run_all(page, server(FRONTENDS[frontend].format(name="02_prompt_tuning.ipynb")))
    widget = page.locator(".jupyter-widgets").filter(has=page.get_by_placeholder("Ask something…"))
    widget.first.scroll_into_view_if_needed()
    answers = widget.first.locator(".jp-RenderedMarkdown h1", has_text="A sample answer")
    assert answers.count() == 1  # the question the notebook's code sent
    widget.first.get_by_placeholder("Ask something…").fill("Hello from the browser")
    widget.first.get_by_role("button", name="Send").click()
    widget.first.get_by_text("Hello from the browser").wait_for(timeout=30_000)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jupyter-widgets .jp-RenderedMarkdown h1')]
                  .filter(h => h.textContent.includes('A sample answer')).length >= 2""",
        timeout=30_000,
    )
    expect(widget.first.get_by_role("button", name="Send")).to_be_enabled(timeout=30_000)
    expect(widget.first.get_by_text("tokens in")).to_be_visible()  # the status line
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"chat_widget-{frontend}.png"))
    page.close()


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_tool_calls_and_a_structured_answer_render(
    server: Callable[[str], str], browser: Any, frontend: str
) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    run_all(page, server(FRONTENDS[frontend].format(name="05_tools_and_structured_output.ipynb")))
    rendered = page.locator(".jp-OutputArea-output.jp-RenderedMarkdown")
    # Each call: a closed block titled with its tool and duration, arguments and result inside.
    call = rendered.locator("details", has=page.locator("summary code", has_text="get_weather"))
    assert call.count() >= 1 and call.first.get_attribute("open") is None
    call.first.locator("summary").click()
    arguments = call.first.locator("pre code.language-json").first
    expect(arguments).to_contain_text('"city": "Paris"')
    assert rendered.locator("li code", has_text="get_time").count() == 1  # the final answer
    call.first.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"tools-{frontend}.png"))
    # The structured answer: pretty JSON in a highlighted code block, not half-written text.
    city = rendered.locator("pre code.language-json", has_text='"landmarks"')
    assert city.count() == 1 and '"year_built": 1' in city.inner_text()
    # The Responses API (api="responses"): the reasoning summary folded above the answer, and
    # the server's web search with its cited source as plain text under it: nothing fetched
    # (JupyterLab turns a URL in plain text into a link a reader may click, nothing more).
    answer = rendered.filter(has_text="maintained in the open, under the Linux Foundation")
    expect(answer).to_have_count(1)
    summary = rendered.locator("details", has=page.locator("summary", has_text="Thought for"))
    summary = summary.filter(has=page.get_by_text("Finding the maintainer"))
    assert summary.count() == 1 and summary.get_attribute("open") is None
    assert summary.evaluate(
        "(details, answer) => !!(details.compareDocumentPosition(answer) & 4)",
        answer.element_handle(),
    )
    summary.locator("summary").click()
    expect(summary.get_by_text("search rather than recall")).to_be_visible()
    sources = page.locator(".jp-OutputArea-output").filter(has_text="(web search (Who maintains")
    expect(sources).to_have_count(1)
    assert "[1] Mock search result" in sources.inner_text()
    assert page.locator("img[src*='example.org'], iframe, script[src*='example.org']").count() == 0
    for link in page.locator("a[href*='example.org']").all():
        assert (link.get_attribute("href") or "").startswith("https://example.org/chatnb-mock/")
    page.close()


LIVE_CELL = """from chatnb import Chatbot
from chatnb.mock import MarkdownSample

bot = Chatbot.mock(MarkdownSample(1_600, seed=3), model="gpt-4o", itl_ms=25)
bot.ask("How should I stream an answer into a notebook?")"""


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_an_answer_streams_with_a_progress_line_that_becomes_the_usage_line(
    server: Callable[[str], str], browser: Any, frontend: str
) -> None:
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    start_run_all(page, server(FRONTENDS[frontend].format(name="live.ipynb")))
    # Under the Markdown, or under the live text once there is some.
    line = ".jp-RenderedMarkdown em, .chatnb-live-footer"
    progress = page.locator(line, has_text=re.compile(r"tokens/s"))
    expect(progress).to_be_visible(timeout=30_000)  # the line under the answer, while it streams
    well_under_way = re.compile(r"^[1-9]\d\d tokens")  # a picture of an answer half-written
    expect(page.locator(line, has_text=well_under_way)).to_be_visible(timeout=30_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"streaming-{frontend}.png"))
    usage = page.locator(".jp-OutputArea-output", has_text=re.compile(r"^\(\d+ \+ [\d,]+ tokens"))
    expect(usage).to_be_visible(timeout=60_000)  # the answer ended: the usage line replaces it
    assert progress.count() == 0
    assert page.locator(".jp-RenderedMarkdown h1", has_text="A sample answer").count() == 1
    page.close()


HOSTILE_CELL = f"""from chatnb import Chatbot

vectors = {list(VECTORS.values())!r}
bot = Chatbot.mock(vectors, chunking="chars", itl_ms=2)"""


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_hostile_answers_fetch_nothing_and_run_nothing_while_streaming(
    server: Callable[[str], str], browser: Any, frontend: str
) -> None:
    """Every vector of tests/test_safety.py streams, a character at a time, into a live (so
    trusted, unsanitized) output in the real frontend: no request leaves for the attacker's
    host and no dialog opens, in the final outputs or in any intermediate one."""
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    fetched: list[str] = []
    dialogs: list[str] = []
    page.route(
        re.compile(r".*evil\.test.*"),
        lambda route: (fetched.append(route.request.url), route.abort()),
    )
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    start_run_all(page, server(FRONTENDS[frontend].format(name="hostile.ipynb")))
    done = page.locator(".jp-OutputArea-output", has_text="all answers shown")
    expect(done).to_be_visible(timeout=120_000)
    assert fetched == [] and dialogs == []
    rendered = page.locator(".jp-RenderedMarkdown")
    assert rendered.locator("img[src*='evil'], script, iframe").count() == 0
    page.close()


LONG_CELL = """from chatnb import Chatbot
from chatnb.mock import MarkdownSample

bot = Chatbot.mock(MarkdownSample(60_000, seed=5), model="gpt-4o", itl_ms=1)
bot.ask("Everything, at length")"""


# Every animation frame: the height of what the first output area holds (its outputs and any
# height it keeps for them; not the area's box, which Notebook 7 turns into a scrolling box
# of its own when an output grows long), and whether the live view is in it.
HEIGHT_PROBE = """() => {
    window.chatnbHeights = [];
    const step = () => {
        const area = document.querySelector('.jp-CodeCell .jp-OutputArea');
        if (area) {
            const outputs = [...area.querySelectorAll(':scope > .jp-OutputArea-child')]
                .reduce((h, c) => h + c.getBoundingClientRect().height, 0);
            const kept = parseFloat(area.style.minHeight) || 0;
            window.chatnbHeights.push(
                [Math.max(outputs, kept), !!area.querySelector('.chatnb-live')]);
        }
        requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
}"""


# What the first cell shows, for a failure's message: its prompt, its outputs' kinds, and the
# live view's rendered and plain parts.
LIVE_STATE = """() => {
    const cell = document.querySelector('.jp-CodeCell');
    const live = cell && cell.querySelector('.chatnb-live');
    const text = (selector) => live?.querySelector(selector)?.textContent.length ?? null;
    return {
        prompt: cell?.querySelector('.jp-InputPrompt')?.textContent,
        outputs: [...(cell?.querySelectorAll('.jp-OutputArea-output') ?? [])]
            .map((o) => o.dataset.mimeType ?? o.className),
        live: !!live, rendered: text('.chatnb-rendered'), plain: text('.chatnb-live-text'),
        footer: live?.querySelector('.chatnb-live-footer')?.textContent ?? null,
        draws: live?.chatnbLive?.draws ?? null,
    };
}"""


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_a_long_answer_renders_as_it_streams_and_ends_in_one_output_without_a_jump(
    server: Callable[[str], str], browser: Any, frontend: str
) -> None:
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    start_run_all(page, server(FRONTENDS[frontend].format(name="long.ipynb")))
    page.evaluate(HEIGHT_PROBE)
    # While it streams, the browser renders it: headings, highlighted code, the progress line.
    live = page.locator(".chatnb-live")
    rendered_live = live.locator(".chatnb-rendered")
    try:
        expect(rendered_live.locator("h1", has_text="A sample answer")).to_have_count(
            1, timeout=60_000
        )
    except AssertionError as missing:  # once in many runs: say what the page held instead
        raise AssertionError(page.evaluate(LIVE_STATE)) from missing
    expect(rendered_live.locator("pre code.language-python").first).to_be_attached()
    expect(live.locator(".chatnb-live-footer")).to_contain_text("tokens/s")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.querySelector('.chatnb-live')?.scrollIntoView({block: 'end'})")
    page.screenshot(path=str(SCREENSHOTS / f"long-streaming-{frontend}.png"))
    usage = page.locator(
        ".jp-OutputArea-output", has_text=re.compile(r"^\(\d[\d,]* \+ [\d,]+ tokens")
    )
    expect(usage).to_be_visible(timeout=120_000)
    page.wait_for_timeout(1_000)  # MathJax and the final Markdown settle
    assert live.count() == 0  # the live widget became Markdown
    outputs = page.locator(".jp-OutputArea-child")
    assert outputs.count() == 2  # the answer in one output, and the usage line: nothing empty
    rendered = page.locator(".jp-OutputArea-output.jp-RenderedMarkdown")
    assert rendered.locator("h1", has_text="A sample answer").count() == 1
    assert rendered.locator("pre code.language-python").count() > 3
    # No jump when the live view gives way to the final output: between two frames the output
    # area never shrinks by more than a line (the progress line goes, the usage line comes).
    heights = page.evaluate("window.chatnbHeights")
    drops = [a[0] - b[0] for a, b in itertools.pairwise(heights)]
    handover = [i for i, (a, b) in enumerate(itertools.pairwise(heights)) if a[1] and not b[1]]
    assert handover, "the probe saw the live view give way"
    worst = max(range(len(drops)), key=drops.__getitem__)
    assert max(drops) <= 30, (max(drops), heights[worst - 2 : worst + 3])
    # Saved by the frontend itself: the answer as Markdown, no widget view and no widget state.
    page.keyboard.press("Control+s")
    page.wait_for_timeout(1_500)
    with urllib.request.urlopen(server("api/contents/long.ipynb")) as response:
        saved = json.load(response)["content"]
    outputs = [o for cell in saved["cells"] for o in cell.get("outputs", [])]
    kinds = [sorted(o.get("data", {})) for o in outputs]
    assert kinds == [["text/markdown"], ["text/plain"]], kinds
    assert "widgets" not in json.dumps(saved["metadata"])
    page.close()


BIG = 10_000  # answers longer than this stream at full speed, token by token; the rest by
# characters at 2 ms, so that many updates (and cuts) happen while they stream.

FIDELITY_SETUP = """import json
import time
from IPython.display import Markdown, display
from chatnb import Chatbot
from chatnb.display import MarkdownStream
from chatnb.display.sinks import IPythonSink
from chatnb.markdown import MarkdownSplitter

answers = json.load(open("corpus.json"))
small = Chatbot.mock([a for a in answers if len(a) <= {big}], chunking="chars", itl_ms=2)
big = Chatbot.mock([a for a in answers if len(a) > {big}], itl_ms=0)

def whole(i):
    # The whole answer in one output, after the same documented rewrites (math, safe mode).
    splitter = MarkdownSplitter(allow_html=False, allow_remote_images=False)
    splitter.feed(answers[i])
    display(Markdown(splitter.whole()))

def parts(i):
    # Each part in an output of its own, cut after every character: every cut the stream
    # could make becomes an output boundary, each rendered on its own by the frontend.
    splitter = MarkdownSplitter(allow_html=False, allow_remote_images=False)
    for character in answers[i]:
        splitter.feed(character)
        splitter.advance()
    splitter.advance(final=True)
    if splitter.revised:  # a definition came late: the stream shows the whole again
        print("revised")
        return
    for part in splitter.parts:
        display(Markdown(part.markdown))

class KeptLive(IPythonSink):
    # The live view stays as it was when the answer ended instead of giving way to Markdown:
    # what the browser rendered live, to compare with the whole answer.
    def settle(self, live, markdown):
        return live.position

def live(i):
    stream = MarkdownStream(sink=KeptLive())
    step = 1 if len(answers[i]) <= {big} else 40
    for at in range(0, len(answers[i]), step):
        stream.feed(answers[i][at:at + step])
        time.sleep(0.002 if step == 1 else 0)
    stream.close()"""


def write_fidelity_notebook(folder: Path) -> None:
    """corpus.json and fidelity.ipynb: for each answer, a cell that streams it through a
    Chatbot and a cell that shows it whole."""
    answers = list(ANSWERS.values())
    (folder / "corpus.json").write_text(json.dumps(answers))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(FIDELITY_SETUP.format(big=BIG))]
    for i, answer in enumerate(answers):
        bot = "big" if len(answer) > BIG else "small"
        notebook.cells.append(nbformat.v4.new_code_cell(f'{bot}.ask("answer {i}")'))
        notebook.cells.append(nbformat.v4.new_code_cell(f"whole({i})"))
        # Hundreds of parts would be more outputs than the frontend shows.
        cut = f"parts({i})" if len(answer) <= BIG else "pass"
        notebook.cells.append(nbformat.v4.new_code_cell(cut))
        notebook.cells.append(nbformat.v4.new_code_cell(f"live({i})"))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, folder / "fidelity.ipynb")


# What a reader sees of a cell's Markdown outputs, element by element: its depth, the tag, list
# numbering, link targets, table cells' text, the text of each element's own text nodes, and
# each MathJax item (display or inline, and what it typeset).
SIGNATURE = """(cell) => {
    const out = [];
    const walk = (node, depth) => {
        for (const el of node.children) {
            const tag = el.tagName.toLowerCase();
            // The notebook's table of contents numbers the headings of outputs it scans (an
            // empty span): frontend chrome, not the rendering.
            if (el.classList.contains('numbering-entry')) continue;
            if (tag === 'mjx-container') {
                out.push(depth + ' math:' + (el.getAttribute('display') === 'true' ? 'display' : 'inline')
                         + ':' + el.textContent.replace(/\\s+/g, ''));
                continue;
            }
            let own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent)
                .join('').replace(/\\s+/g, ' ').trim();
            const extra = tag === 'ol' ? ' start=' + (el.getAttribute('start') || '1')
                : tag === 'a' ? ' href=' + el.getAttribute('href') : '';
            out.push(depth + ' ' + tag + extra + (own ? ' | ' + own : ''));
            walk(el, depth + 1);
        }
    };
    const outputs = cell.querySelectorAll(
        '.jp-OutputArea-output.jp-RenderedMarkdown, .chatnb-rendered');
    outputs.forEach(o => walk(o, 0));
    // The height each takes in the page: its output's box (for the live view, less the
    // progress line under it).
    const box = (o) => o.closest('.jp-OutputArea-output') || o;
    const footer = (o) => [...box(o).querySelectorAll('.chatnb-live-footer')]
        .reduce((h, f) => h + f.getBoundingClientRect().height, 0);
    const height = [...outputs].reduce(
        (h, o) => h + box(o).getBoundingClientRect().height - footer(o), 0);
    return {signature: out, outputs: outputs.length, height: height,
            raw: [...outputs].map(o => {  // the text outside code and typeset math
                const copy = o.cloneNode(true);
                copy.querySelectorAll('pre, code, mjx-container').forEach(e => e.remove());
                return copy.textContent;
            }).join('\\n')};
}"""


def test_streamed_answers_render_exactly_as_the_whole_answers_in_jupyterlab(
    server: Callable[[str], str], browser: Any
) -> None:
    """The oracle is JupyterLab itself: each corpus answer streamed through a Chatbot (many
    outputs, each rendered on its own by marked after MathJax's math is taken out) must give
    the DOM of the same answer shown whole in one output, after the same rewrites; and so
    must the live view the browser rendered while it streamed, as it stood at the end."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    run_all(page, server(FRONTENDS["jupyterlab"].format(name="fidelity.ipynb")))
    # MathJax typesets after the Markdown renders: wait until the count of its items settles.
    count = "() => document.querySelectorAll('mjx-container').length"
    last, stable = -1, 0
    for _ in range(60):
        now = page.evaluate(count)
        stable = stable + 1 if now == last else 0
        if stable >= 3:
            break
        last = now
        page.wait_for_timeout(500)
    cells = page.locator(".jp-CodeCell")
    assert page.locator(".jp-TrimmedOutputs").count() == 0  # no "Show more outputs"
    differences, heights, raw, cut = [], [], [], 0
    for i, name in enumerate(ANSWERS):
        streamed = cells.nth(1 + 4 * i).evaluate(SIGNATURE)
        whole = cells.nth(2 + 4 * i).evaluate(SIGNATURE)
        parts = cells.nth(3 + 4 * i).evaluate(SIGNATURE)
        live = cells.nth(4 + 4 * i).evaluate(SIGNATURE)
        assert streamed["outputs"] == 1 and live["outputs"] == 1, name
        # A definition that came after its use (parts printed "revised") shows right only in
        # the final output, which replaced the live view.
        revised = parts["outputs"] == 0 and len(ANSWERS[name]) <= BIG
        compared = [("streamed", streamed)] + [("live", live)] * (not revised)
        compared += [("in parts", parts)] * (parts["outputs"] > 0)
        cut += parts["outputs"] > 1
        for how, shown in compared:
            if shown["signature"] != whole["signature"]:
                diff = difflib.unified_diff(whole["signature"], shown["signature"], lineterm="")
                differences.append(f"{name} {how}:\n" + "\n".join(list(diff)[2:]))
        heights.append((name, streamed["height"], whole["height"]))
        if not revised:
            heights.append((f"{name} live", live["height"], whole["height"]))
        # The math renders: no delimiter is left as text (currency keeps its "$").
        if any(delimiter in whole["raw"] for delimiter in ("$$", "\\[", "\\(")):
            raw.append((name, whole["raw"]))
    page.get_by_text("The Gaussian integral is").first.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "math-jupyterlab.png"))
    page.close()
    assert differences == [], "\n\n".join(differences)  # whole (-) and streamed (+)
    assert cut >= 20  # answers shown in several parts, each rendered on its own
    assert raw == [], raw
    off = [(n, round(s), round(w)) for n, s, w in heights if abs(s - w) > max(4, 0.02 * w)]
    assert off == [], off  # paragraph spacing: the same height as one output


GROWING_CELL = """import time
from chatnb.display import MarkdownStream
from chatnb.display.sinks import IPythonSink

class KeptLive(IPythonSink):
    def settle(self, live, markdown):  # the live view stays, to be looked at
        return live.position

table = "Results:\\n\\n| n | square | note |\\n|---:|:-:|---|\\n" + "".join(
    f"| {i} | {i * i} | *row* `{i}` and [a link](https://example.com/{i}) |\\n"
    for i in range(150))
code = "The code:\\n\\n```python\\n" + "".join(
    f'def f{i}(x):\\n    \\"\\"\\"Doc {i}.\\n    on two lines\\"\\"\\"\\n    return x * {i}  # <{i}>\\n'
    for i in range(80)) + "```\\n\\nDone.\\n"
words = "alpha beta gamma delta stream token render window budget".split()
def prose(n, every=0, extra=""):
    return " ".join(words[i % 9] + (extra.format(i=i) if every and i % every == 0 else "")
                    for i in range(n))
# A paragraph that grows by words (code spans inside; from a code span holding a pipe it
# renders whole), one that a setext line makes a heading, one with a table under its last
# line, one of many lines with hard breaks, and a long list item (never grown by words).
paragraphs = [
    "Prose:\\n\\n" + prose(900, 25, " `code {i} *x*`") + " `a | b` " + prose(100)
    + " **bold** [link](https://example.com) " + prose(100) + ".\\n\\nDone.\\n",
    "Intro:\\n\\n" + prose(300, 40, " `c{i}`") + "\\n===\\n\\nAfter.\\n",
    "Intro:\\n\\n" + prose(200) + "\\nname | value\\n--- | ---\\n"
    + "".join(f"a{i} | {i}\\n" for i in range(20)) + "\\nEnd.\\n",
    "Lines:\\n\\n" + "\\n".join(prose(12) + "  " * (i % 3 == 0) for i in range(60))
    + "\\n\\nEnd.\\n",
    "Items:\\n\\n- " + prose(300) + "\\n- second\\n\\nEnd.\\n",
]
for text in (table, code, *paragraphs):
    stream = MarkdownStream(sink=KeptLive())
    for at in range(0, len(text), 9):
        stream.feed(text[at:at + 9])
        time.sleep(0.004)
    stream.close()"""

# Each draw's open tail as the live view showed it, beside the frontend's rendering of the
# same text alone: the element tree and each element's own text; inside a <pre> only its text
# (a chunk's highlighting may differ from the whole block's for multi-line tokens).
LIVE_STATES = """async () => {
    const signature = (nodes) => {
        const out = [];
        const walk = (el, depth) => {
            const tag = el.tagName.toLowerCase();
            if (tag === 'pre') { out.push(depth + ' pre | ' + el.textContent); return; }
            const own = [...el.childNodes].filter(n => n.nodeType === 3)
                .map(n => n.textContent).join('').replace(/\\s+/g, ' ').trim();
            const align = el.getAttribute('align') || el.style.textAlign || '';
            out.push(depth + ' ' + tag + (align ? ' ' + align : '') + (own ? ' | ' + own : ''));
            for (const child of el.children) walk(child, depth + 1);
        };
        for (const node of nodes) if (node.nodeType === 1) walk(node, 0);
        return out;
    };
    // The height nodes take in a container styled as the live view is.
    const live = document.querySelector('.chatnb-rendered');
    const height = (nodes) => {
        const box = document.createElement('div');
        box.className = live.className;
        box.append(...nodes);
        live.after(box);
        const h = box.getBoundingClientRect().height;
        box.remove();
        return h;
    };
    const states = window.chatnbLiveDebug;
    const sample = states.filter((s, i) => i % 4 === 1 || i === states.length - 1);
    const differences = [];
    let tables = 0, codes = 0, highlighted = 0, paragraphs = 0;
    for (const state of sample) {
        const alone = await state.stats.renderAlone(state.tail);
        const [shown, whole] = [signature(state.nodes), signature(alone)];
        const heights = [height(state.nodes), height(alone)];
        if (JSON.stringify(shown) !== JSON.stringify(whole) || Math.abs(heights[0] - heights[1]) > 1) {
            const at = shown.findIndex((line, i) => line !== whole[i]);
            const [a, b] = [shown[at] || '', whole[at] || ''];
            let part = 0;  // where the two lines part
            while (part < a.length && a[part] === b[part]) part++;
            const from = (line) => line.slice(Math.max(0, part - 40), part + 80);
            differences.push({tail: state.tail.slice(-80), at, live: from(shown[at]),
                              whole: from(whole[at]), heights});
        }
        const holder = document.createElement('div');
        holder.append(...state.nodes);
        tables += holder.querySelectorAll('tbody tr').length > 20;
        codes += (holder.querySelector('pre') || {textContent: ''}).textContent.length > 1000;
        highlighted += holder.querySelectorAll('pre code span').length > 20;
        paragraphs += [...holder.children].some(
            (p) => p.tagName === 'P' && p.textContent.length > 2000 && p.querySelector('code'));
    }
    // Of the draws of the long paragraph (the first), the characters each rendered, beside
    // the paragraph's length.
    const prose = states.filter((s) => s.tail.includes('alpha `code 0') && s.tail.length > 2000);
    const views = [...document.querySelectorAll('.chatnb-live')].map(v => v.chatnbLive);
    return {states: states.length, sampled: sample.length, differences, tables, codes,
            highlighted, paragraphs, prose: prose.map((s) => [s.chars, s.tail.length]),
            tail: views.map(v => v.tailElements), parts: views.map(v => v.partElements)};
}"""


def test_each_live_state_of_a_growing_table_and_code_block_renders_as_the_frontend_does(
    server: Callable[[str], str], browser: Any
) -> None:
    """A 150-row table, an 80-function code block and paragraphs stream into the live view:
    each draw renders only the block's new lines (and its last one) and moves them into the
    live table or code block, and only a paragraph's new words. Sampled draws are compared
    with JupyterLab's own rendering of the same text in one piece (same elements, same text,
    same table rows, same height), and the elements rendered per draw stay bounded while the
    block grows."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.add_init_script("window.chatnbLiveDebug = []")
    run_all(page, server(FRONTENDS["jupyterlab"].format(name="growing.ipynb")))
    found = page.evaluate(LIVE_STATES)
    page.close()
    assert found["differences"] == [], found["differences"][:3]
    assert found["sampled"] >= 20 and found["tables"] >= 3 and found["codes"] >= 3
    assert found["highlighted"] >= 3  # the live code block is highlighted as it streams
    assert found["paragraphs"] >= 3
    # A paragraph grows by its new words: most draws render a small share of it (the draws
    # after its bold render the rest whole).
    shares = sorted(chars / length for chars, length in found["prose"])
    assert len(shares) >= 10 and shares[len(shares) // 2] < 0.1, shares
    for tail in found["tail"][:2]:
        # Elements rendered for the open tail per draw: the block's head and a few new lines,
        # not the whole block (150 rows are over 1,000 elements). A handful of draws render
        # a block whole: when it starts growing, and when it ends (before it is frozen).
        assert len(tail) >= 20
        assert sorted(tail)[-4] <= 120, sorted(tail)[-8:]
