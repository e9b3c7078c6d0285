"""What the reader sees, measured in the browser: chatnb beside the naive recipe.

JupyterLab 4 (and Notebook 7) on 127.0.0.1, driven by Debian's Chromium through Playwright.
``chatnb serve`` streams each answer in gpt-4o tokens at 100 (and 200) tokens a second; the
answer travels in the request (``extra_body={"mock": {"reply": ...}}``) so one server serves
every shape. One notebook cell asks through chatnb's ``Chatbot``; beside it, in the same run
and the same way, the naive recipe from tutorials::

    handle = display(Markdown(""), display_id=True)
    for chunk in client.chat.completions.create(..., stream=True):
        answer += chunk.choices[0].delta.content
        handle.update(Markdown(answer))

Each line of the answer ends in a unique marker (``benchmarks/_marked_answers.py``); a probe
injected into the page (``benchmarks/_browser_probe.js``) samples the cell's output area every
100 ms. Send times: an httpx response hook in the kernel takes the wall time at which the
server's response began (its first token goes out with the headers), and the token that
completes a marker's line is sent ``index / rate`` seconds after that (the mock's schedule).
Per shape, rate and recipe it prints:

- **visible** lag p50 / p99: first time the marker shows as text anywhere in the output area,
  minus the time its line was sent; **rendered** lag p50 / p90 / p99 and the share rendered
  within 1 s: first time it shows inside the element Markdown makes of its line (a heading,
  paragraph, list item, table cell, code block or quote in ``.jp-RenderedMarkdown`` or
  ``.chatnb-rendered``, never in the live text ``.chatnb-live-text``). A marker never shown
  counts as infinitely late (``never``);
- **fps** and the largest gaps between animation frames while the answer streams;
- **main thread**: the renderer's busy time (Chromium's TaskDuration, less the probe's own
  sampling) and long tasks (count, total); **CPU**: Chromium (all its processes), the kernel,
  the Jupyter server and the mock server over the run; the largest **JS heap**;
- **shift**: the largest layout-shift score, and the largest move of an element (px);
- **final = whole**: the cell's final rendered DOM (element by element) equals a cell that
  shows ``Markdown(whole_answer)``.

``--trace DIR`` records a Chromium trace of each case's stream into DIR and prints where the
main thread went (``benchmarks/_trace.py``: animation-frame script, style and layout, paint,
timers, messages arriving); tracing slows the page, so compare traced runs with traced runs.

A run ends when the cell is done and every marker is rendered, or ``--grace`` seconds after
the stream's last token (the kernel is then interrupted); a page that stops answering is
closed after a hard limit. Every server is on 127.0.0.1 and stopped at the end.

    python benchmarks/browser.py --quick              # small answers, JupyterLab, 100 tok/s
    python benchmarks/browser.py                      # the full sizes, both frontends, 100 and 200
    python benchmarks/browser.py --shapes mixed-20k,table-40k --rates 100 --frontends lab
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools

from benchmarks._marked_answers import SHAPES, MarkedAnswer, pieces_with_markers
from benchmarks._trace import CATEGORIES, describe, main_thread_phases
from chatnb.tokens import encoding_for
from tests.lab import free_port, lab_command
from tests.servers import wait_until_serving

ROOT = Path(__file__).resolve().parents[1]
PROBE = (Path(__file__).parent / "_browser_probe.js").read_text()
KEY = "sk-browser-benchmark"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
FRONTENDS = {"lab": "lab/tree/{name}?reset", "notebook7": "notebooks/{name}"}

FULL = {
    "mixed-20k": ("mixed", 20_000),
    "mixed-100k": ("mixed", 100_000),
    "table-40k": ("table", 40_000),
    "code-20k": ("code", 20_000),
    "paragraph-400k": ("paragraph", 400_000),
}
QUICK = {
    "mixed-3k": ("mixed", 3_000),
    "mixed-8k": ("mixed", 8_000),
    "table-4k": ("table", 4_000),
    "code-3k": ("code", 3_000),
    "paragraph-20k": ("paragraph", 20_000),
}

SETUP = """import json, time
from IPython.display import Markdown, display
from openai import AsyncOpenAI, OpenAI
from chatnb import Chatbot
from chatnb.openai_private import library
answer = open({answer!r}).read()
first = []  # when the server's response began: its first token goes out with the headers
hooks = {{"response": [lambda response: first.append(time.time())]}}
client = OpenAI(base_url={url!r}, api_key={key!r}, http_client=library().Client(event_hooks=hooks))
bot = Chatbot("gpt-4o", client=client, async_client=AsyncOpenAI(base_url={url!r}, api_key={key!r}),
              answer_timeout=None)
"""

RECIPES = {
    "chatnb": """bot.ask("Write the answer.", extra_body={"mock": {"reply": answer}})""",
    "naive": """text = ""
handle = display(Markdown(text), display_id=True)
for chunk in client.chat.completions.create(
    model="gpt-4o", messages=[{"role": "user", "content": "Write the answer."}],
    stream=True, extra_body={"mock": {"reply": answer}},
):
    if chunk.choices and chunk.choices[0].delta.content:
        text += chunk.choices[0].delta.content
        handle.update(Markdown(text))""",
}

# The done file is written whole, then renamed: the benchmark never reads it half-written.
MEASURED = """try:
{body}
finally:
    import os
    with open({done!r} + ".part", "w") as done_file:
        done_file.write(json.dumps({{"first": first[-1] if first else None}}))
    os.replace({done!r} + ".part", {done!r})
"""

WHOLE = "display(Markdown(answer))"

# The cell's rendered Markdown, element by element (as tests/test_browser.py compares it), with
# chatnb's usage line left out (it is not part of the answer).
SIGNATURE = """(cell) => {
    const out = [];
    const walk = (node, depth) => {
        for (const el of node.children) {
            const tag = el.tagName.toLowerCase();
            if (tag === 'mjx-container') { out.push(depth + ' math:' + el.textContent); continue; }
            const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent)
                .join('').replace(/\\s+/g, ' ').trim();
            out.push(depth + ' ' + tag + (own ? ' | ' + own : ''));
            walk(el, depth + 1);
        }
    };
    for (const o of cell.querySelectorAll('.jp-OutputArea-output.jp-RenderedMarkdown')) {
        if (/^\\(\\d[\\d,]* \\+ [\\d,]+ tokens/.test(o.textContent.trim())) continue;
        walk(o, 0);
    }
    return out;
}"""


@dataclass(frozen=True)
class Case:
    frontend: str
    shape: str
    answer: MarkedAnswer
    rate: int
    recipe: str
    sends: dict[str, float]  # marker -> seconds after the first token


@dataclass
class Raw:
    """What one run collected: the probe's reports, CPU deltas, times."""

    seen: dict[str, float] = field(default_factory=dict)
    rendered: dict[str, float] = field(default_factory=dict)
    frames: list[float] = field(default_factory=list)
    longtasks: list[list[float]] = field(default_factory=list)
    shifts: list[list[float]] = field(default_factory=list)
    heap: float = 0.0
    probe_ms: float = 0.0
    origin: float = 0.0
    first: float | None = None
    window: tuple[float, float] = (0.0, 0.0)
    main_thread: float | None = None
    cpu: dict[str, float] = field(default_factory=dict)
    final_equal: str = "n/a"
    note: str = ""
    phases: dict[str, float] = field(default_factory=dict)  # with --trace

    def take(self, delta: dict[str, Any]) -> None:
        self.seen.update(delta["seen"])
        self.rendered.update(delta["rendered"])
        self.frames += delta["frames"]
        self.longtasks += delta["longtasks"]
        self.shifts += delta["shifts"]
        self.heap, self.probe_ms, self.origin = delta["heap"], delta["probeMs"], delta["origin"]


@contextmanager
def started(command: list[str], folder: Path, name: str, env: dict[str, str]) -> Iterator[Any]:
    """A server process, its output in ``folder/name.log``; always stopped."""
    log_path = folder / f"{name}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            yield process, log_path
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@dataclass
class Jupyter:
    process: subprocess.Popen[bytes]
    base: str
    token: str

    def url(self, path: str) -> str:
        return f"{self.base}/{path}{'&' if '?' in path else '?'}token={self.token}"

    def api(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(self.url(f"api/{path}"), method=method)
        with urllib.request.urlopen(request, timeout=30) as reply:
            body = reply.read()
        return json.loads(body) if body else None

    def kernel_for(self, notebook: str) -> str | None:
        sessions = self.api("sessions")
        return next((s["kernel"]["id"] for s in sessions if s["path"] == notebook), None)

    def stop_sessions(self) -> None:
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", "DELETE")

    def kernel_processes(self) -> list[psutil.Process]:
        children = psutil.Process(self.process.pid).children(recursive=True)
        return [p for p in children if "ipykernel" in " ".join(_cmdline(p))]


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


@contextmanager
def jupyter(folder: Path) -> Iterator[Jupyter]:
    """JupyterLab (and Notebook 7) on 127.0.0.1 serving ``folder``; always stopped."""
    port, token = free_port(), secrets.token_hex(16)
    command, env = lab_command(folder, port, token)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    with started(command, folder, "jupyter", env) as (process, log):
        server = Jupyter(process, f"http://127.0.0.1:{port}", token)
        wait_until_serving(server.url("api/status"), process, log)
        yield server


@contextmanager
def mock_server(folder: Path, rate: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``chatnb serve`` at ``rate`` tokens a second on 127.0.0.1; always stopped."""
    port = free_port()
    command = [sys.executable, "-m", "chatnb", "serve", "--port", str(port), "--api-key", KEY]
    command += ["--itl-ms", str(1000 / rate)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with started(command, folder, f"mock-{rate}", env) as (process, log):
        url = f"http://127.0.0.1:{port}/v1"
        wait_until_serving(f"{url}/models", process, log)
        yield url, process


def write_notebook(folder: Path, name: str, setup: str, measured: str) -> str:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in (setup, measured, WHOLE)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, folder / f"{name}.ipynb")
    return f"{name}.ipynb"


def chromium_processes() -> list[psutil.Process]:
    children = psutil.Process().children(recursive=True)
    return [p for p in children if "chrom" in p.name().lower()]


def cpu_of(processes: list[psutil.Process]) -> dict[int, float]:
    times = {}
    for process in processes:
        try:
            cpu = process.cpu_times()
            times[process.pid] = cpu.user + cpu.system + cpu.children_user + cpu.children_system
        except psutil.Error:
            continue
    return times


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


@dataclass
class Meters:
    """CPU of the processes a run involves, read at its start and end."""

    server: Jupyter
    mock: subprocess.Popen[bytes]
    marks: dict[str, dict[int, float]] = field(default_factory=dict)

    def read(self) -> dict[str, dict[int, float]]:
        return {
            "chromium": cpu_of(chromium_processes()),
            "kernel": cpu_of(self.server.kernel_processes()),
            "jupyter": cpu_of([psutil.Process(self.server.process.pid)]),
            "mock": cpu_of([psutil.Process(self.mock.pid)]),
        }

    def start(self) -> None:
        self.marks = self.read()

    def stop(self) -> dict[str, float]:
        now = self.read()
        return {name: cpu_delta(self.marks[name], now[name]) for name in now}


def prompt(page: Any, index: int) -> str:
    text = page.locator(".jp-CodeCell").nth(index).locator(".jp-InputPrompt").inner_text()
    return str(text)


def run_cell(page: Any, index: int) -> None:
    """Run one cell (Shift+Enter in it), trying again while the kernel is not connected."""
    cell = page.locator(".jp-CodeCell").nth(index)
    for _ in range(6):
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if any(c in prompt(page, index) for c in "*0123456789"):
                return
            page.wait_for_timeout(200)
    raise RuntimeError(f"cell {index} did not start")


def wait_done(page: Any, index: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not any(c in prompt(page, index) for c in "0123456789"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"cell {index} did not finish in {timeout:.0f} s")
        page.wait_for_timeout(200)


def main_thread_seconds(cdp: Any) -> float:
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return float(next(m["value"] for m in metrics if m["name"] == "TaskDuration"))


@contextmanager
def watchdog(seconds: float, raw: Raw) -> Iterator[None]:
    """Kill the browser if what follows takes longer than ``seconds`` (a frozen page)."""

    def fire() -> None:
        raw.note = f"the page did not answer within {seconds:.0f} s: closed"
        for process in chromium_processes():
            try:
                process.kill()
            except psutil.Error:
                continue

    timer = threading.Timer(seconds, fire)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def signatures_equal(page: Any) -> str:
    """Show the whole answer in the third cell, and compare its DOM with the measured cell's."""
    run_cell(page, 2)
    wait_done(page, 2, 120)
    count = "() => document.querySelectorAll('mjx-container').length"
    last, stable = -1, 0
    for _ in range(60):  # MathJax typesets after the Markdown renders: wait until it settles
        now = page.evaluate(count)
        stable, last = (stable + 1 if now == last else 0), now
        if stable >= 3:
            break
        page.wait_for_timeout(500)
    cells = page.locator(".jp-CodeCell")
    shown, whole = cells.nth(1).evaluate(SIGNATURE), cells.nth(2).evaluate(SIGNATURE)
    if shown == whole:
        return "yes"
    differ = next((i for i, (a, b) in enumerate(zip(shown, whole, strict=False)) if a != b), None)
    at = f"element {differ}" if differ is not None else "length"
    return f"no ({len(shown)} vs {len(whole)} elements, first difference: {at})"


@dataclass(frozen=True)
class Setting:
    folder: Path
    server: Jupyter
    url: str
    mock: subprocess.Popen[bytes]
    grace: float
    trace: Path | None = None  # a folder: each case's Chromium trace goes there


def run_case(playwright: Any, setting: Setting, case: Case) -> Raw:
    """One answer, one recipe, in a fresh browser; what the probe saw and what it cost."""
    name = f"{case.frontend}-{case.shape}-{case.rate}-{case.recipe}"
    done = setting.folder / f"{name}.done"
    answer = setting.folder / f"{case.shape}.md"
    setup = SETUP.format(answer=str(answer), url=setting.url, key=KEY)
    body = "\n".join("    " + line for line in RECIPES[case.recipe].splitlines())
    notebook = write_notebook(
        setting.folder, name, setup, MEASURED.format(body=body, done=str(done))
    )
    raw = Raw()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--enable-precise-memory-info"]
    )
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.add_init_script(PROBE)
        page.expose_function("__benchReport", raw.take)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(setting.server.url(FRONTENDS[case.frontend].format(name=notebook)))
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000
        )
        run_cell(page, 0)
        wait_done(page, 0, 120)
        kinds = {marker: kind for marker, kind, _ in case.answer.markers}
        page.evaluate("kinds => { window.__bench.kinds = kinds; }", kinds)
        if setting.trace is None:
            _stream(page, cdp, setting, case, raw, done, notebook)
        else:
            trace = setting.trace / f"{name}.json"
            browser.start_tracing(page=page, path=str(trace), categories=CATEGORIES)
            try:
                _stream(page, cdp, setting, case, raw, done, notebook)
            finally:
                browser.stop_tracing()
            raw.phases = main_thread_phases(trace)
    except Exception as error:  # a run that breaks is reported, the others go on
        raw.note = raw.note or f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
    finally:
        with watchdog(30, raw):
            browser.close()
        setting.server.stop_sessions()
    return raw


def _stream(
    page: Any, cdp: Any, setting: Setting, case: Case, raw: Raw, done: Path, notebook: str
) -> None:
    meters = Meters(setting.server, setting.mock)
    meters.start()
    busy = main_thread_seconds(cdp)
    page.evaluate("window.__bench.started = true")
    started = time.time()
    run_cell(page, 1)
    duration = max(case.sends.values()) if case.sends else 0.0
    deadline = started + 10 + duration + setting.grace
    finished_at = None
    while time.time() < deadline:
        page.wait_for_timeout(250)  # the probe's reports arrive meanwhile
        if done.exists():
            finished_at = finished_at or time.time()
            if len(raw.rendered) == len(case.answer.markers):
                break
            deadline = min(deadline, finished_at + setting.grace)
    if not done.exists():
        kernel = setting.server.kernel_for(notebook)
        if kernel:
            setting.server.api(f"kernels/{kernel}/interrupt", "POST")
        raw.note = f"stopped {setting.grace:.0f} s after the stream's end"
        for _ in range(40):
            if done.exists():
                break
            time.sleep(0.25)
    if done.exists():
        raw.first = json.loads(done.read_text())["first"]
    raw.window = (started, time.time())
    raw.cpu = meters.stop()
    with watchdog(60 + setting.grace, raw):
        page.evaluate("window.__bench.started = false")
        raw.main_thread = main_thread_seconds(cdp) - busy
        page.wait_for_timeout(300)  # the last report
        if not raw.note:
            raw.final_equal = signatures_equal(page)


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; infinity stands for never."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.999999) - 1))]


def figures(case: Case, raw: Raw) -> dict[str, Any]:
    if raw.first is None:
        return {"note": raw.note or "the stream never began"}
    sent = {m: raw.first + s for m, s in case.sends.items()}
    visible = [raw.seen.get(m, float("inf")) / 1000 - at for m, at in sent.items()]
    rendered = [raw.rendered.get(m, float("inf")) / 1000 - at for m, at in sent.items()]
    end = raw.first + max(case.sends.values())
    frames = [raw.origin / 1000 + t / 1000 for t in raw.frames]
    frames = [t for t in frames if raw.first <= t <= end]
    gaps = sorted((b - a for a, b in itertools.pairwise(frames)), reverse=True)
    span = frames[-1] - frames[0] if len(frames) > 1 else 0.0
    long = [d / 1000 for s, d in raw.longtasks]
    return {
        "visible": (percentile(visible, 0.5), percentile(visible, 0.99)),
        "rendered": tuple(percentile(rendered, q) for q in (0.5, 0.9, 0.99)),
        "within_1s": sum(lag <= 1 for lag in rendered) / len(rendered),
        "shown": sum(lag != float("inf") for lag in visible) / len(visible),
        "fps": (len(frames) - 1) / span if span else 0.0,
        "gaps": gaps[:3],
        "main": max(0.0, (raw.main_thread or 0.0) - raw.probe_ms / 1000),
        "main_known": raw.main_thread is not None,
        "probe": raw.probe_ms / 1000,
        "long": (len(long), sum(long), max(long, default=0.0)),
        "cpu": raw.cpu,
        "heap": raw.heap / 2**20,
        "shift": (max((s[1] for s in raw.shifts), default=0.0),
                  max((s[2] for s in raw.shifts), default=0.0)),
        "largest_shifts": sorted(raw.shifts, key=lambda s: -s[2])[:3],
        "final": raw.final_equal,
        "note": raw.note,
        "phases": raw.phases,
    }  # fmt: skip


def seconds(value: float) -> str:
    if value == float("inf"):
        return "never"
    return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.1f} s"


HEADER = (
    "| recipe | visible p50 / p99 | rendered p50 / p90 / p99 | rendered <= 1 s | fps"
    " | largest frame gaps | main thread | long tasks (n, total, max) | Chromium CPU"
    " | kernel CPU | Jupyter + mock CPU | JS heap | layout shift (score, px) | final = whole |"
)


def row(recipe: str, f: dict[str, Any]) -> str:
    if "visible" not in f:
        return f"| {recipe} | {f['note']} |" + " |" * 13
    cpu, (n, total, worst), (score, px) = f["cpu"], f["long"], f["shift"]
    main = f"{f['main']:.2f} s" if f["main_known"] else "n/a"
    shown = f" ({f['shown']:.0%} ever shown)" if f["shown"] < 1 else ""
    return (
        f"| {recipe} | {' / '.join(map(seconds, f['visible']))}{shown}"
        f" | {' / '.join(map(seconds, f['rendered']))} | {f['within_1s']:.0%} | {f['fps']:.0f}"
        f" | {', '.join(seconds(g) for g in f['gaps'])} | {main}"
        f" | {n}, {total:.2f} s, {seconds(worst)} | {cpu.get('chromium', 0):.2f} s"
        f" | {cpu.get('kernel', 0):.2f} s | {cpu.get('jupyter', 0) + cpu.get('mock', 0):.2f} s"
        f" | {f['heap']:.0f} MB | {score:.3f}, {px:.0f} | {f['final']} |"
    )


def ratios(ours: dict[str, Any], naive: dict[str, Any]) -> str:
    if "visible" not in ours or "visible" not in naive:
        return ""

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b > 0 else "-"

    main = ratio(ours["main"], naive["main"]) if ours["main_known"] and naive["main_known"] else "-"
    cpu = {k: ratio(ours["cpu"].get(k, 0), naive["cpu"].get(k, 0)) for k in ("chromium", "kernel")}
    return (
        f"chatnb / naive: main thread {main}, long tasks {ratio(ours['long'][1], naive['long'][1])},"
        f" Chromium CPU {cpu['chromium']}, kernel CPU {cpu['kernel']}"
    )


def cases(args: argparse.Namespace, sizes: dict[str, tuple[str, int]]) -> Iterator[Case]:
    encoding = encoding_for("gpt-4o")
    for shape, (kind, size) in sizes.items():
        answer = SHAPES[kind](size)
        pieces = encoding.pieces(answer.text)
        indices = dict(pieces_with_markers(answer, pieces))
        for frontend in args.frontends:
            for rate in args.rates:
                sends = {marker: index / rate for marker, index in indices.items()}
                for recipe in args.recipes:
                    yield Case(frontend, shape, answer, rate, recipe, sends)


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small answers (a few minutes)")
    parser.add_argument("--shapes", help="comma-separated shape names (see FULL and QUICK)")
    parser.add_argument("--frontends", help="lab,notebook7 (default: both; --quick: lab)")
    parser.add_argument("--rates", help="tokens a second, e.g. 100,200 (--quick: 100)")
    parser.add_argument("--recipes", default="chatnb,naive", help="chatnb,naive")
    parser.add_argument("--grace", type=float, help="seconds to wait after the stream's end")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument(
        "--trace", type=Path, help="a folder: record a Chromium trace of each case there and "
        "print where the main thread went (tracing slows the page: compare traced runs only)"
    )  # fmt: skip
    args = parser.parse_args()
    args.frontends = (args.frontends or ("lab" if args.quick else "lab,notebook7")).split(",")
    args.rates = [int(r) for r in (args.rates or ("100" if args.quick else "100,200")).split(",")]
    args.recipes = args.recipes.split(",")
    args.grace = args.grace if args.grace is not None else (10.0 if args.quick else 30.0)
    return args


def main() -> None:
    from playwright.sync_api import sync_playwright

    args = options()
    if args.trace is not None:
        args.trace.mkdir(parents=True, exist_ok=True)
    sizes = QUICK if args.quick else FULL
    if args.shapes:
        sizes = {n: v for n, v in {**FULL, **QUICK}.items() if n in args.shapes.split(",")}
    results: list[tuple[Case, dict[str, Any]]] = []
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chatnb-browser-") as temporary:
        folder = Path(temporary)
        for shape, (kind, size) in sizes.items():
            (folder / f"{shape}.md").write_text(SHAPES[kind](size).text)
        with jupyter(folder) as server, sync_playwright() as playwright:
            for rate in args.rates:
                with mock_server(folder, rate) as (url, mock):
                    setting = Setting(folder, server, url, mock, args.grace, args.trace)
                    for case in cases(args, sizes):
                        if case.rate != rate:
                            continue
                        raw = run_case(playwright, setting, case)
                        results.append((case, figures(case, raw)))
                        print(f"  {case.frontend} {case.shape} {rate} tok/s {case.recipe}:"
                              f" done ({time.monotonic() - began:.0f} s)", flush=True)  # fmt: skip
    report(results)
    if args.json:
        rows = [{"frontend": c.frontend, "shape": c.shape, "rate": c.rate, "recipe": c.recipe,
                 "bytes": len(c.answer.text.encode()), "markers": len(c.answer.markers), **f}
                for c, f in results]  # fmt: skip
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    print(f"\n{time.monotonic() - began:.0f} s in all")


def report(results: list[tuple[Case, dict[str, Any]]]) -> None:
    groups: dict[tuple[str, str, int], dict[str, tuple[Case, dict[str, Any]]]] = {}
    for case, f in results:
        groups.setdefault((case.frontend, case.shape, case.rate), {})[case.recipe] = (case, f)
    for (frontend, shape, rate), by_recipe in groups.items():
        case = next(iter(by_recipe.values()))[0]
        size, markers = len(case.answer.text.encode()), len(case.answer.markers)
        stream = max(case.sends.values())
        print(f"\n{frontend}, {shape} ({size:,} bytes, {markers:,} markers),"
              f" {rate} tokens/s ({stream:.0f} s of stream)")  # fmt: skip
        print(HEADER + "\n|---|" + "---:|" * 13 + "---|")
        for recipe, (_, f) in by_recipe.items():
            print(row(recipe, f))
        for recipe, (_, f) in by_recipe.items():
            if f.get("note"):
                print(f"  note: {f['note']}")
            if f.get("phases"):
                print(f"  {recipe}: {describe(f['phases'])}")
        if "chatnb" in by_recipe and "naive" in by_recipe:
            print(ratios(by_recipe["chatnb"][1], by_recipe["naive"][1]))


if __name__ == "__main__":
    main()
