"""Untrusted strings in chatnb's own views: a tool's name as the server streams it, names and
prompts in tables and grids, transcripts. One escaping rule (``safety.escape_text``) for a
string placed inside chatnb's Markdown or HTML, safe mode for every transcript; judged by the
HTML the frontend's parser makes of what a real kernel sent."""

from __future__ import annotations

import textwrap
from html.parser import HTMLParser

import pytest

from chatnb import Chatbot
from chatnb.display import ToolCallView
from chatnb.events import ToolCallArgumentsDelta, ToolCallDone, ToolCallResult, ToolCallStarted
from chatnb.experiments.results import summary_table
from chatnb.markdown import render
from chatnb.markdown.safety import escape_text
from chatnb.mock import ToolCall
from chatnb.mock.conversation import check_conversation
from chatnb.workbench.compare import Comparison, Result

from .fakes import FakeSink
from .kernel import Kernel, Run
from .test_safety import Marked, dangerous, marked  # noqa: F401 - marked is a fixture

HOSTILE_LABELS = [
    "x<img src=http://127.0.0.1:1/x onerror=alert(1)>",
    "![x](https://evil.test/x.png)",
    "`</code><img src=x onerror=alert(1)>`",
    "a\n\n<img src=https://evil.test/y onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "</summary></details><script>alert(1)</script>",
    "&lt;img src=x onerror=alert(1)&gt;",
    "| a | ![i](https://evil.test/z) |",
    "<iframe src=https://evil.test/f></iframe>",
    "**bold** _it_ ~~gone~~ \\*",
    "$\\href{javascript:alert(1)}{x}$",
]
HARMLESS_LABELS = [
    "get_weather",
    "search-web",
    "lookup2",
    "temperature=0.2",
    "system='Be brief.', temperature=1.2",
    "variant 1 (gpt-4o)",
    'contains: "Paris"',
    "Ünïcode 名前",
    "50% of a, b; c.",
]
#: Where chatnb places a label: a tool call's title, a table cell, a line of Markdown.
CONTEXTS = {
    "summary": "<details><summary>✓ <code>{}</code> · 1 ms</summary>\n\nbody\n\n</details>\n",
    "table": "| variant | trials |\n|---|---:|\n| {} | 3 |\n",
    "line": "**You:** {}\n",
}


class _Text(HTMLParser):
    """The text of some HTML, and its elements in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def read(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser


def text_of(html: str) -> str:
    return " ".join("".join(read(html).parts).split())


@pytest.mark.parametrize("label", HARMLESS_LABELS)
def test_harmless_labels_are_unchanged(label: str) -> None:
    assert escape_text(label) == label


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_a_label_is_plain_text_wherever_it_is_placed(
    marked: Marked,  # noqa: F811
    label: str,
    context: str,
) -> None:
    """In every context, in both parsers: nothing runs or fetches, no element appears that a
    plain word would not make, and the reader sees the label's own characters (on one line)."""
    template = CONTEXTS[context]
    shown = template.format(escape_text(label))
    for parse in (marked.html, render):
        html = parse(shown)
        assert dangerous(html) == [], html
        assert read(html).tags == read(parse(template.format("x"))).tags, html
        assert " ".join(label.split()) in text_of(html), html


def test_a_label_is_shortened_and_on_one_line() -> None:
    assert escape_text("a" * 100, 10) == "a" * 9 + "…"
    assert escape_text("one\r\ntwo\u2028three\x00four") == "one two three four"


# -- the tool call's title ---------------------------------------------------------------------

NAME = "x<img src=http://127.0.0.1:1/x onerror=alert(1)>"


def test_the_call_block_shows_a_hostile_name_as_text() -> None:
    screen = FakeSink()
    view = ToolCallView(screen, clock=lambda: 0.0)
    view.handle(ToolCallStarted(0, 0, "call_1", NAME))
    view.handle(ToolCallArgumentsDelta(0, 0, '{"a": 1}'))
    view.handle(ToolCallDone(0, 0, "call_1", NAME, '{"a": 1}'))
    view.handle(ToolCallResult(0, 0, "call_1", NAME, "Error: no such tool", False, 0.01))
    view.close()
    assert screen.versions
    for version in screen.versions:
        assert dangerous(render(version)) == [], version
        assert "<img" not in version
    assert NAME in text_of(render(screen.outputs[0]))


def test_a_name_the_request_did_not_offer_goes_back_as_a_tool_error() -> None:
    def lookup(city: str) -> str:
        "The weather in a city."
        return "sunny"

    script = [ToolCall(NAME * 1000, {"city": "Paris"}), "Sorry.", "ok"]
    bot = Chatbot.mock(script, tools=[lookup], display=False)
    answer = bot.ask("Weather?")
    (result,) = answer.tool_results
    assert not result.ok and result.content.startswith("Error: there is no tool named 'x<img")
    assert len(result.content) < 200 and "The tools are: lookup." in result.content
    check_conversation(list(bot.history))  # the API's own rule for the History
    assert bot.ask("again") == "ok"  # and the mock, checking as the API does, accepted it


# -- tables and transcripts --------------------------------------------------------------------


def test_comparison_and_experiment_tables_show_names_as_text(marked: Marked) -> None:  # noqa: F811
    hostile = "<img src=https://evil.test/v onerror=alert(1)>"
    comparison = Comparison([Result(f"![p]({hostile})", hostile, {}, "x", None, hostile)])
    row = {"variant": hostile, "trials": 1, "failed": 0, "ttft_s": None, "total_s": None}
    table = summary_table([{**row, "cost_usd": None}], [], interrupted=False)
    for markdown in (comparison._repr_markdown_(), table):
        assert dangerous(marked.html(markdown)) == [] and dangerous(render(markdown)) == []
        assert hostile in text_of(marked.html(markdown))


def test_to_markdown_is_in_safe_mode_unless_asked(marked: Marked) -> None:  # noqa: F811
    answer = "<img src=https://evil.test/a onerror=alert(1)> and ![i](https://evil.test/i.png)"
    bot = Chatbot.mock(answer, reasoning="![r](https://evil.test/r.png)", display=False)
    bot.history.system = "<iframe src=https://evil.test/s></iframe>"
    bot.ask("<img src=https://evil.test/q>")
    shown = bot.to_markdown()
    assert dangerous(marked.html(shown)) == [] and dangerous(render(shown)) == []
    assert "<summary>Thinking</summary>" in shown  # chatnb's own harmless markup stays
    raw = bot.to_markdown(safe=False)
    assert answer in raw and dangerous(marked.html(raw))
    unsafe = Chatbot.mock(answer, display=False, safe=False)
    unsafe.ask("hi")
    assert answer in unsafe.to_markdown()


# -- in a real kernel ----------------------------------------------------------------------------

SETUP = textwrap.dedent(
    """
    %load_ext chatnb
    import json
    from chatnb import Chatbot, ChatWidget
    from chatnb.mock import ToolCall
    from chatnb.mock.conversation import check_conversation

    NAME = {name!r}
    ARGS = {{"city": "<img src=http://127.0.0.1:1/args onerror=alert(2)>"}}
    def lookup(city: str) -> str:
        "The weather in a city."
        return "<img src=http://127.0.0.1:1/result onerror=alert(3)>"

    def hostile_bot():
        return Chatbot.mock(
            [ToolCall(NAME, ARGS), ToolCall("lookup", ARGS), "done <b>x</b>"],
            tools=[lookup],
            reasoning="![r](http://127.0.0.1:1/reasoning.png)",
            itl_ms=1,
        )
    """
).format(name=NAME)


def sent_markdown(run: Run) -> list[str]:
    """Every version of every Markdown output a run sent: display messages and the outputs
    of Output widgets, updates included."""
    found = [
        m["content"]["data"]["text/markdown"]
        for m in run.display_messages()
        if "text/markdown" in m["content"]["data"]
    ]
    for message in run.of_type("comm_open", "comm_msg"):
        state = message["content"]["data"].get("state", {})
        for output in state.get("outputs", []) or []:
            found += [output.get("data", {}).get("text/markdown", "")]
    return [markdown for markdown in found if markdown]


def live_html(markdowns: list[str], marked: Marked) -> list[str]:  # noqa: F811
    """What in the Markdown a frontend would render would run or fetch."""
    return [
        found for md in markdowns for found in dangerous(marked.html(md)) + dangerous(render(md))
    ]


@pytest.fixture(scope="module")
def hostile_kernel(kernel: Kernel) -> Kernel:
    kernel.run(SETUP).ok()
    return kernel


def test_a_hostile_tool_name_streams_into_the_cell_as_text(
    hostile_kernel: Kernel,
    marked: Marked,  # noqa: F811
) -> None:
    kernel = hostile_kernel
    run = kernel.run("bot = hostile_bot()\nanswer = bot.ask('Weather?')").ok()
    shown = sent_markdown(run)
    assert live_html(shown, marked) == []
    assert any("x&#60;img" in md for md in shown)  # the call's block, with its name as text
    state = kernel.run(
        "check_conversation(list(bot.history))\n"
        "print(json.dumps([r.ok for r in answer.tool_results]), answer)"
    ).ok()
    assert state.frontend.text() == "[false, true] done <b>x</b>\n"


def test_a_hostile_tool_name_streams_into_the_chat_widget_as_text(
    hostile_kernel: Kernel,
    marked: Marked,  # noqa: F811
) -> None:
    kernel = hostile_kernel
    prompt = "![p](http://127.0.0.1:1/prompt.png) <img src=x onerror=alert(4)>"
    run = kernel.run(
        f"w = ChatWidget(hostile_bot())\nw.prompt.value = {prompt!r}\nw.send.click()\nawait w.task"
    ).ok()
    shown = sent_markdown(run)
    assert live_html(shown, marked) == []
    assert any("x&#60;img" in md for md in shown) and any("**You:**" in md for md in shown)


def test_chat_history_shows_the_transcript_in_safe_mode(
    hostile_kernel: Kernel,
    marked: Marked,  # noqa: F811
) -> None:
    kernel = hostile_kernel
    kernel.run(
        "bot = hostile_bot()\nbot.ask('Weather?')\n"
        "bot.ask('<img src=http://127.0.0.1:1/question onerror=alert(5)>')"
    ).ok()
    run = kernel.run("%chat_history -b bot").ok()
    (transcript,) = sent_markdown(run)
    assert live_html([transcript], marked) == []
    assert "**user**" in transcript and "tool call: x&#60;img" in transcript
    assert "<summary>Thinking</summary>" in transcript
    plain = run.frontend.text()
    assert "<img src=http://127.0.0.1:1/question" in plain  # the text itself, as text


def test_an_answer_not_shown_while_it_streamed_is_shown_in_safe_mode(
    hostile_kernel: Kernel,
    marked: Marked,  # noqa: F811
) -> None:
    kernel = hostile_kernel
    run = kernel.run(
        "quiet = Chatbot.mock('<img src=http://127.0.0.1:1/late onerror=alert(6)>', display=False)\n"
        "quiet.ask('hi')"
    ).ok()
    shown = sent_markdown(run)
    assert shown and live_html(shown, marked) == []
