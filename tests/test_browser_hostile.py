"""Hostile channels in JupyterLab in Chromium: a tool name, tool arguments and results,
reasoning, the chat widget and ``%chat_history``, each streamed by the mock as a hostile server
would send them. Every request the page makes to anywhere but the Jupyter server is counted,
and every dialog: none of either.

Uses the server and browser of ``tests/test_browser.py``; the notebook is written into the
server's folder through its contents API.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import nbformat
from playwright.sync_api import expect

from .test_browser import FRONTENDS, SCREENSHOTS, browser, server, start_run_all  # noqa: F401

SETUP = """%load_ext chatnb
from chatnb import Chatbot, ChatWidget
from chatnb.mock import ToolCall

NAME = "x<img src=http://127.0.0.1:1/name onerror=alert('name')>"
ARGS = {"city": "<img src=http://127.0.0.1:1/args onerror=alert('args')>"}

def lookup(city: str) -> str:
    "The weather in a city."
    return "<img src=http://127.0.0.1:1/result onerror=alert('result')> ![r](https://evil.test/r)"

def hostile_bot():
    return Chatbot.mock(
        [ToolCall(NAME, ARGS), ToolCall("lookup", ARGS),
         "<img src=http://127.0.0.1:1/answer onerror=alert('answer')> ![a](https://evil.test/a)"],
        tools=[lookup],
        reasoning="![t](http://127.0.0.1:1/reasoning.png) <img src=x onerror=alert('reasoning')>",
        chunking="chars",
        itl_ms=1,
    )"""
CELLS = [
    SETUP,
    "bot = hostile_bot()\nbot.ask('Weather?')",
    "w = ChatWidget(hostile_bot())\n"
    "w.prompt.value = \"![p](http://127.0.0.1:1/prompt.png) <img src=x onerror=alert('p')>\"\n"
    "w.send.click()\nw",
    "await w.task",
    "%chat_history -b bot",
    "from IPython.display import Markdown\nMarkdown(bot.to_markdown())",
    'print("all shown")',
]


def put_notebook(url: str, name: str, cells: list[str] = CELLS) -> None:
    """Write a notebook of ``cells`` (default: the hostile one) into the running server's
    folder (its contents API)."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    parts = urlsplit(url)
    (token,) = parse_qs(parts.query)["token"]
    body = json.dumps({"type": "notebook", "format": "json", "content": notebook}).encode()
    request = urllib.request.Request(
        f"{parts.scheme}://{parts.netloc}/api/contents/{name}",
        data=body,
        method="PUT",
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status in (200, 201)


def test_hostile_tool_calls_reasoning_widget_and_history_fetch_and_run_nothing(
    server: Callable[[str], str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    url = server(FRONTENDS["jupyterlab"].format(name="hostile_views.ipynb"))
    put_notebook(url, "hostile_views.ipynb")
    jupyter = "{0.scheme}://{0.netloc}/".format(urlsplit(url))
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    fetched: list[str] = []
    dialogs: list[str] = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((jupyter, "data:", "blob:"))
            else fetched.append(request.url)
        ),
    )
    page.route(lambda address: not address.startswith(jupyter), lambda route: route.abort())
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    start_run_all(page, url)
    done = page.locator(".jp-OutputArea-output", has_text="all shown")
    expect(done).to_be_visible(timeout=180_000)
    rendered = page.locator(".jp-RenderedMarkdown")
    # Both transcripts (%chat_history, Markdown(bot.to_markdown())) rendered, each with the
    # three answers of the conversation (the made-up call, the real one, the text).
    expect(rendered.locator("strong", has_text="assistant")).to_have_count(6)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "hostile_views-jupyterlab.png"), full_page=True)
    assert fetched == [] and dialogs == []
    assert rendered.locator("img, script, iframe").count() == 0
    # The hostile name shown as text in the call's title: in the cell and in the widget.
    title = rendered.locator("summary code", has_text="x<img src=http://127.0.0.1:1/name")
    assert title.count() == 2
    page.close()
