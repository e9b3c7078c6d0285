"""The Chatbot in a real kernel: what the notebook shows, interrupts, and errors."""

from __future__ import annotations

import re
import textwrap

from chatnb.markdown import render
from chatnb.mock.replies import markdown_sample

from .kernel import Kernel


def test_ask_as_the_last_expression_is_shown_once(kernel: Kernel) -> None:
    kernel.run("from chatnb import Chatbot\nbot = Chatbot.mock('Hello **there**!')").ok()
    run = kernel.run("bot.ask('Hi')").ok()
    assert run.of_type("execute_result") == []  # not a second time as Out[n]
    assert run.frontend.markdown() == ["Hello **there**!"]
    check = kernel.run("print(repr(_), bot.history.last.content)").ok()
    assert check.frontend.text() == "'Hello **there**!' Hello **there**!\n"


def test_an_answer_without_live_display_shows_itself_as_a_result(kernel: Kernel) -> None:
    run = kernel.run(
        "from chatnb import Chatbot\nChatbot.mock('Quiet', display=False).ask('x')"
    ).ok()
    assert run.frontend.markdown() == ["Quiet"]


def test_a_20_kb_answer_costs_the_frontend_at_most_3x_its_size(kernel: Kernel) -> None:
    run = kernel.run(
        textwrap.dedent(
            """
            from chatnb import Chatbot
            from chatnb.mock import MarkdownSample
            bot = Chatbot.mock(MarkdownSample(20_000, 5), itl_ms=1)
            answer = bot.ask("Write a long answer")
            """
        )
    ).ok()
    text = markdown_sample(20_000, 5)
    shown = run.frontend.markdown()
    assert "".join(shown) == text and "".join(render(s) for s in shown) == render(text)
    assert run.markdown_bytes() <= 3 * len(text.encode())


def test_an_interrupt_keeps_the_partial_answer_and_the_next_ask_works(kernel: Kernel) -> None:
    kernel.run(
        textwrap.dedent(
            """
            from chatnb import Chatbot
            from chatnb.mock import MarkdownSample
            bot = Chatbot.mock(MarkdownSample(6_000, 1), itl_ms=10)
            """
        )
    ).ok()
    # Interrupt once the answer has visibly started.
    run = kernel.run("bot.ask('Long answer, please')", interrupt_on="text/markdown")
    assert run.reply["status"] == "error" and run.reply["ename"] == "AnswerInterrupted"
    assert len(run.reply["traceback"]) == 1  # one paragraph, not a traceback
    assert "partial answer" in run.reply["traceback"][0]
    on_screen = "".join(run.frontend.markdown())
    assert 0 < len(on_screen) < 6_000
    state = kernel.run(
        "last = bot.history.last\n"
        "print(last.role, bot.history.note(last), len(last.content), len(bot.history))"
    ).ok()
    role, note, length, count = state.frontend.text().split()
    assert (role, note, count) == ("assistant", "interrupted", "2")
    assert on_screen == markdown_sample(6_000, 1)[: int(length)]
    again = kernel.run(
        "bot = Chatbot.mock('Fine.')\nprint(bot.ask('Still there?') == 'Fine.')"
    ).ok()
    assert again.frontend.text().endswith("True\n")


def test_an_http_error_is_one_paragraph_in_the_notebook(kernel: Kernel) -> None:
    run = kernel.run(
        textwrap.dedent(
            """
            from chatnb import Chatbot
            bot = Chatbot.mock(failure={"status": 503}, max_retries=0)
            bot.ask("Hi")
            """
        )
    )
    assert run.reply["status"] == "error" and run.reply["ename"] == "ServerError"
    (paragraph,) = run.reply["traceback"]
    assert paragraph.startswith("ServerError: The server failed (503)")


def test_a_progress_line_rides_under_the_answer_and_becomes_the_usage_line(kernel: Kernel) -> None:
    run = kernel.run(
        textwrap.dedent(
            """
            from chatnb import Chatbot
            from chatnb.mock import MarkdownSample
            bot = Chatbot.mock(MarkdownSample(8_000, 2), model="gpt-4o", itl_ms=2)
            answer = bot.ask("A long answer, please")
            """
        )
    ).ok()
    # Under the live text, replaced on its own while the answer streams.
    footers = [
        m["content"]["data"]["content"]["footer"]
        for m in run.of_type("comm_msg")
        if "footer" in m["content"]["data"].get("content", {})
    ]
    progress = [
        s for s in footers if re.fullmatch(r"[\d,]+ tokens · [\d,]+ tokens/s · [\d.]+ s", s)
    ]
    assert len(progress) >= 3  # it moves while the answer streams
    counts = [int(re.findall(r"([\d,]+) tokens", s)[0].replace(",", "")) for s in progress]
    assert counts == sorted(counts) and counts[0] < counts[-1]
    shown = run.frontend.markdown()
    assert "".join(shown) == markdown_sample(8_000, 2)  # no trace left in the answer
    (usage_line,) = [
        o["data"]["text/plain"] for o in run.frontend.outputs if "text/plain" in o.get("data", {})
    ]
    assert re.fullmatch(
        r"\([\d,]+ \+ [\d,]+ tokens, [\d.]+ s, [\d,]+ tokens/s, \$0\.000000 \(mock\)\)", usage_line
    )
    assert run.markdown_bytes() <= 3 * len(markdown_sample(8_000, 2).encode())


def test_an_answer_of_math_holding_html_lookalikes_completes_the_ask(kernel: Kernel) -> None:
    # neutralize once raised "did not converge" on "$<T>$" (the parser read HTML inside math,
    # where no backslash may go): nothing shown, no usage, no run log.
    run = kernel.run(
        textwrap.dedent(
            """
            import tempfile, chatnb
            from chatnb import Chatbot
            path = tempfile.mkdtemp() + "/runs.sqlite"
            bot = Chatbot.mock("Use $<T>$ generics", model="gpt-4o", cache=path)
            answer = bot.ask("How do I write a generic?")
            print(bot.usage.answers, len(chatnb.runs(path)))
            """
        )
    ).ok()
    assert run.frontend.markdown() == ["Use $<T>$ generics"]
    assert run.frontend.text().endswith("1 1\n")
    (usage_line,) = [
        o["data"]["text/plain"] for o in run.frontend.outputs if "text/plain" in o.get("data", {})
    ]
    assert re.fullmatch(
        r"\([\d,]+ \+ [\d,]+ tokens, [\d.]+ s, [\d,]+ tokens/s, \$[\d.]+ \(mock\)\)", usage_line
    )


def test_a_newcomers_mistakes_are_one_paragraph_each_in_the_notebook(kernel: Kernel) -> None:
    kernel.run("from chatnb import Chatbot\nbot = Chatbot.mock('Fine.')").ok()
    for code, said in [
        ("Chatbot.mock('x', temprature=1)", "OptionError: 'temprature' is not an option"),
        ("bot.ask('Hi', temprature=1)", "Did you mean 'temperature'?"),
        ("bot.ask(42)", "ArgumentError: ask() takes the question as a str, not an int (42)"),
    ]:
        run = kernel.run(code)
        assert run.reply["status"] == "error", code
        (paragraph,) = run.reply["traceback"]  # no traceback of chatnb's insides
        assert said in paragraph, (code, paragraph)
