"""The workbench in a real kernel: %%chat, the chat widget, and compare."""

from __future__ import annotations

import textwrap
from html.parser import HTMLParser
from typing import Any

import pytest

from chatnb.workbench.magic import interpolate

from .kernel import Frontend, Kernel


@pytest.fixture(scope="module")
def magic_kernel(kernel: Kernel) -> Kernel:
    kernel.run(
        textwrap.dedent(
            """
            %load_ext chatnb
            import warnings, chatnb.workbench.magic as magic
            from chatnb import Chatbot
            """
        )
    ).ok()
    return kernel


def test_chat_magic_streams_interpolates_and_remembers(magic_kernel: Kernel) -> None:
    kernel = magic_kernel
    kernel.run("%chat_reset\ntopic = 'SSE'").ok()
    first = kernel.run("%%chat -t 0.2\nExplain {topic} and write {{braces}}.").ok()
    assert first.frontend.markdown() == ["Explain SSE and write {braces}."]  # the echo mock
    assert first.of_type("execute_result") == []  # shown once, while streaming
    kernel.run("%%chat\nAnd a second question.").ok()
    history = kernel.run("%chat_history").ok()
    (transcript,) = history.frontend.markdown()
    assert transcript.count("**user**") == 2 and "Explain SSE" in transcript
    kernel.run("%chat_reset").ok()
    empty = kernel.run("%chat_history").ok()
    assert "**user**" not in "".join(empty.frontend.markdown())


def test_chat_magic_with_a_named_bot(magic_kernel: Kernel) -> None:
    kernel = magic_kernel
    kernel.run("reviewer = Chatbot.mock('Looks good to me.')").ok()
    run = kernel.run("%%chat -b reviewer -s 'You review code.'\nReview this.").ok()
    assert run.frontend.markdown() == ["Looks good to me."]
    state = kernel.run("print(reviewer.history.system, len(reviewer.history))").ok()
    assert state.frontend.text() == "You review code. 2\n"


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("%%chat --temprature 1\nHi", "unrecognized arguments: --temprature"),
        ("%%chat -b nobody\nHi", "the notebook has no variable 'nobody'"),
        ("%%chat -b topic\nHi", "is a str, not a Chatbot"),
        ("%%chat\nTell me about {undefined_thing}", "no variable 'undefined_thing'"),
        ("%%chat\n  \n", "empty"),
    ],
)
def test_chat_magic_usage_errors_are_one_line(magic_kernel: Kernel, cell: str, words: str) -> None:
    kernel = magic_kernel
    kernel.run("%chat_reset\ntopic = 'x'").ok()
    run = kernel.run(cell)
    assert run.reply["status"] == "error" and run.reply["ename"] == "UsageError"
    assert words in run.reply["evalue"] and "\n" not in run.reply["evalue"]
    assert run.frontend.markdown() == []  # nothing was sent
    count = kernel.run(
        "print(0 if magic_obj.default is None else len(magic_obj.default.history))".replace(
            "magic_obj", "get_ipython().magics_manager.registry['ChatMagics']"
        )
    ).ok()
    assert count.frontend.text() == "0\n"


def test_interpolate() -> None:
    ns = {"a": 1, "items": [1, 2], "obj": type("O", (), {"x": "y"})()}
    assert interpolate("{a} {items[1]} {obj.x} {{a}}", ns) == "1 2 y {a}"
    for template in ["{}", "{0}", "{a", "{missing}"]:
        with pytest.raises(Exception, match="prompt"):
            interpolate(template, ns)


WIDGET = """
import asyncio
from chatnb import Chatbot, ChatWidget
from chatnb.mock import MarkdownSample
bot = Chatbot.mock({reply}, itl_ms={itl})
w = ChatWidget(bot)
w.prompt.value = "Hello there"
w.temperature.value = 0.4
w.max_tokens.value = {max_tokens}
task = w.send.click() or w.task
"""


def test_widget_send_streams_into_the_conversation(kernel: Kernel) -> None:
    kernel.run(WIDGET.format(reply="'Hi **you**.'", itl=1, max_tokens=0)).ok()
    run = kernel.run(
        "answer = await w.task\nprint(repr(answer), w.status.value != '', w.send.disabled, w.stop.disabled)"
    ).ok()
    assert run.frontend.text() == "'Hi **you**.' True False True\n"
    state = kernel.run("print([m.content for m in bot.history], w.prompt.value == '')").ok()
    assert state.frontend.text() == "['Hello there', 'Hi **you**.'] True\n"


def test_widget_stop_keeps_the_partial_answer(kernel: Kernel) -> None:
    kernel.run(WIDGET.format(reply="MarkdownSample(4000, 2)", itl=10, max_tokens=0)).ok()
    # Stop once the answer has visibly started (its box joined the conversation), not on a timer.
    kernel.run(
        "for _ in range(400):\n"
        "    if len(w.conversation.children) >= 2: break\n"
        "    await asyncio.sleep(0.025)\n"
        "w.stop.click()\nresult = await w.task"
    ).ok()
    state = kernel.run(
        "last = bot.history.last\n"
        "print(result, bot.history.note(last), 0 < len(last.content) < 4000, w.status.value)"
    ).ok()
    assert state.frontend.text() == "None interrupted True stopped: the partial answer is kept\n"
    again = kernel.run(
        "w.prompt.value = 'Next?'\nw.max_tokens.value = 5\nw.send.click()\nprint(len(await w.task) > 0)"
    ).ok()
    assert again.frontend.text().endswith("True\n")
    notes = [
        output["data"].get("text/plain", "")
        for state in again.frontend.widgets.values()
        for output in state.get("outputs", [])
    ]
    assert any("cut by the token limit" in note for note in notes)  # max tokens 5: a note


def test_a_browser_click_answers_through_widget_state(kernel: Kernel) -> None:
    # A click's task outlives its request: the browser drops display messages that come after
    # it (it would show "You: ..." and never the answer); widget state always gets through.
    kernel.run(WIDGET.format(reply="'Answered **through state**.'", itl=2, max_tokens=0)).ok()
    kernel.run("await w.task").ok()  # the code-driven ask of WIDGET; now a browser click:
    send = kernel.run("w.prompt.value = 'From the browser'\nprint(w.send.comm.comm_id)").ok()
    messages = kernel.click(send.frontend.stdout().strip(), until="tokens in")
    idle = next(
        i for i, m in enumerate(messages)
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
    )  # fmt: skip
    after = [m["msg_type"] for m in messages[idle:]]
    assert "comm_msg" in after and not {"display_data", "update_display_data"} & set(after)
    shown = Frontend()
    for m in messages:
        shown.receive(m)
    assert "Answered **through state**." in shown.widget_markdown()
    assert "**You:** From the browser" in shown.widget_markdown()


def test_widget_applies_its_settings(kernel: Kernel) -> None:
    kernel.run(WIDGET.format(reply="'ok'", itl=0, max_tokens=3)).ok()
    run = kernel.run(
        "w.model.value = 'gpt-4o'; w.system.value = 'Be nice.'\n"
        "w.prompt.value = 'x'; w.send.click(); await w.task\n"
        "print(bot.model, bot.history.system, w.task.result().finish_reason)"
    ).ok()
    assert run.frontend.text() == "gpt-4o Be nice. stop\n"


COMPARE = """
import chatnb
from chatnb import Chatbot
bot = Chatbot.mock("echo", itl_ms=5, model="gpt-4o")
results = await chatnb.compare({prompts}, [
    {{"system": "Be brief."}},
    {{"system": "Be verbose.", "temperature": 1.2}},
    {{"model": "gpt-4o-mini", "name": "mini"}},
    {{"max_tokens": 1}},
], bot=bot)
rows = results.to_records()
print(len(rows), [r["variant"] for r in rows][:4])
print([r["answer"] for r in rows])
print(all(r["ttft_s"] > 0 and r["completion_tokens"] > 0 for r in rows), len(bot.history))
"""


def test_compare_runs_variants_side_by_side(kernel: Kernel) -> None:
    run = kernel.run(COMPARE.format(prompts="'Say hello'")).ok()
    lines = run.frontend.stdout().splitlines()
    assert lines[0] == (
        "4 [\"system='Be brief.'\", \"system='Be verbose.', temperature=1.2\", 'mini', 'max_tokens=1']"
    )
    assert lines[1] == "['Say hello', 'Say hello', 'Say hello', 'Say']"
    assert lines[2] == "True 0"  # the base bot's own conversation is untouched
    # A grid of widgets, then the table of latency, tokens and cost.
    assert any(
        m["content"].get("data", {}).get("state", {}).get("_model_name") == "GridBoxModel"
        for m in run.of_type("comm_open")
    )
    (table,) = run.frontend.markdown()[-1:]
    assert "| first token | total | tokens in | tokens out | cost |" in table and "mini" in table


def test_compare_prompts_times_variants(kernel: Kernel) -> None:
    run = kernel.run(COMPARE.format(prompts="['One', 'Two']")).ok()
    lines = run.frontend.stdout().splitlines()
    assert lines[0].startswith("8 ")
    assert lines[1] == "['One', 'One', 'One', 'One', 'Two', 'Two', 'Two', 'Two']"
    # One row of four cells per prompt (and one for the names): a label spanning the columns
    # (grid_column) never reaches the page, and pushed the answers under the wrong names.
    states = run.frontend.widgets.values()
    grids = [w for w in states if w.get("_model_name") == "GridBoxModel"]
    assert len(grids) == 3 and all(len(g["children"]) == 4 for g in grids)
    assert not [w for w in states if w.get("_model_name") == "LayoutModel" and w.get("grid_column")]
    assert run.frontend.widget_markdown() == ["One"] * 4 + ["Two"] * 4


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def cell_outputs(run: Any) -> list[dict[str, Any]]:
    """The data of the cell's own outputs as a frontend keeps them: a display sent while an
    Output widget captures (its ``msg_id`` is the request's) goes into that widget instead;
    display-id updates applied."""
    capturing: set[str] = set()
    outputs: list[dict[str, Any]] = []
    for message in run.messages:
        kind, content = message["msg_type"], message["content"]
        if kind == "comm_msg" and "msg_id" in content["data"].get("state", {}):
            capture = content["data"]["state"]["msg_id"]
            (capturing.add if capture else capturing.discard)(content["comm_id"])
        elif kind == "display_data" and not capturing:
            outputs.append(content)
        elif kind == "update_display_data":
            for output in outputs:
                if output.get("transient", {}).get("display_id") == content["transient"].get(
                    "display_id"
                ):
                    output["data"] = content["data"]
    return [o.get("data", {}) for o in outputs]


def finished_grid(run: Any) -> dict[str, Any]:
    """The cell's outputs as a frontend (or a saved notebook) keeps them: no widget view left,
    the grid's output a static table; that output's data."""
    outputs = cell_outputs(run)
    assert not [o for o in outputs if WIDGET_VIEW in o], outputs
    (grid,) = [o for o in outputs if "text/html" in o]
    assert set(grid) == {"text/html", "text/plain"}
    # Every widget the grid opened is closed (and its layout and style): none left in the kernel.
    opened = {m["content"]["comm_id"] for m in run.of_type("comm_open")}
    closed = {m["content"]["comm_id"] for m in run.of_type("comm_close")}
    assert opened and opened <= closed, len(opened - closed)
    return grid


class Elements(HTMLParser):
    """The tags, attributes and text of some HTML."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_a_finished_compare_leaves_a_static_table(kernel: Kernel) -> None:
    run = kernel.run(COMPARE.format(prompts="['One', 'Two']")).ok()
    grid = finished_grid(run)
    found = Elements(grid["text/html"])
    names = ["system=&#39;Be brief.&#39;", "system=&#39;Be verbose.&#39;, temperature=1.2"]
    assert [t for t, _ in found.tags].count("table") == 1
    headers = grid["text/html"].split("</thead>")[0]
    assert all(name.replace("&#39;", "'") in headers for name in names) and "mini" in headers
    cells = [a for t, a in found.tags if t == "td"]
    assert sum("colspan" in a for a in cells) == 2  # a label per prompt, over its row
    assert sum("colspan" not in a for a in cells) == 8  # an answer per prompt and variant
    # Each prompt's label, then its four answers (the mock echoes), in page order.
    assert [x for x in found.text if x in ("One", "Two")] == ["One"] * 5 + ["Two"] * 5
    assert grid["text/plain"].startswith("── One · system='Be brief.' ──\nOne\n\n")
    # The table of latency, tokens and cost still follows.
    assert "| first token |" in run.frontend.markdown()[-1]


HOSTILE = [
    "<img src=http://x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "![i](http://remote/p.png)",
    "<script>alert(1)</script>",
    "<iframe src=http://x></iframe> [y](JaVaScRiPt&#58;alert(1)) [z](data:text/html,hi)",
    "![local](x.png) [rel](page.html) <a href=javascript:alert(1)>a</a>",
]
HARMLESS = (
    "**bold** and `code`\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    "[web](https://example.com) and math: $a_1 * b_2 * c$"
)


def test_the_finished_table_renders_answers_safely(kernel: Kernel) -> None:
    answers = [*HOSTILE, HARMLESS]
    run = kernel.run(
        "import chatnb\nfrom chatnb import Chatbot\n"
        f"answers = {answers!r}\n"
        "bot = Chatbot.mock(lambda request: answers[int(request.messages[-1].content)])\n"
        f"r = await chatnb.compare([str(i) for i in range({len(answers)})], "
        "[{'name': '<b onmouseover=alert(1)>v</b>'}], bot=bot)"
    ).ok()
    grid = finished_grid(run)
    found = Elements(grid["text/html"])
    tags = [t for t, _ in found.tags]
    assert not {"img", "script", "iframe", "object", "embed", "svg", "b"} & set(tags), tags
    for tag, attrs in found.tags:
        assert not [a for a in attrs if a.startswith("on") or a in ("src", "srcset")], tag
        href = attrs.get("href")
        assert href is None or href.startswith(("https://example.com", "http://remote")), href
    assert "<b onmouseover=alert(1)>v</b>" in "".join(found.text)  # the name, as text
    assert "[i]" not in "".join(found.text)  # a remote image: a link, never fetched
    assert "[local]" in "".join(found.text)  # a local one: its alt text, never loaded
    # Harmless Markdown renders: bold, code, a list, a table, a web link.
    for tag in ("strong", "code", "ul", "li", "th", "a"):
        assert tag in tags, tag
    assert ("a", {"href": "https://example.com"}) in found.tags
    # Math as written, for the frontend to typeset: its "_" and "*" are not emphasis.
    assert "$a_1 * b_2 * c$" in grid["text/html"]
    assert "<script>alert(1)</script>" in grid["text/plain"]  # plain text, as written


def test_the_small_experiment_grid_is_left_static(kernel: Kernel) -> None:
    run = kernel.run(
        "import chatnb\nfrom chatnb import Chatbot\n"
        "bot = Chatbot.mock('echo')\n"
        "small = await chatnb.experiment(['e1', 'e2'], [{'name': 'a'}, {'name': 'b'}], "
        "repeats=2, bot=bot)"
    ).ok()
    grid = finished_grid(run)
    found = Elements(grid["text/html"])
    labels = [x for x in found.text if x.startswith("e")]
    # Each row's label (input and repeat), then its two answers (the mock echoes).
    expected = [x for e in ("e1", "e2") for r in (1, 2) for x in (f"{e} (#{r})", e, e)]
    assert labels == expected, labels


def test_the_workbench_says_why_it_chose_the_mock(monkeypatch: pytest.MonkeyPatch) -> None:
    from chatnb.errors import ChatnbWarning
    from chatnb.workbench import default_chatbot

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    with pytest.warns(ChatnbWarning, match=r"OPENAI_BASE_URL is set \(http://127.0.0.1:11434/v1\)"):
        bot = default_chatbot(display=False)
    assert bot.ask("hi") == "hi"  # the mock, which echoes
