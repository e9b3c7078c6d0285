"""The tool loop in a real kernel: live call blocks, and the kernel's interrupt (the stop
button's SIGINT) at each point of a loop, after which the mock (checking the order of the
messages as the API does) accepts the next ask."""

from __future__ import annotations

import json
import textwrap

import pytest

from .kernel import Kernel

SETUP = textwrap.dedent(
    """
    import json, time
    from chatnb import Chatbot
    from chatnb.mock import MarkdownSample, ToolCall
    from chatnb.mock.conversation import check_conversation

    def lookup(city: str) -> str:
        "The weather in a city."
        return "sunny"

    def slow_lookup(city: str) -> str:
        "The weather in a city, slowly."
        print("TOOL RUNNING", flush=True)
        time.sleep(60)
        return "sunny"

    def state(bot):
        check_conversation(list(bot.history))  # raises as the API would
        roles = [m.role for m in bot.history]
        notes = [bot.history.note(m) for m in bot.history]
        return json.dumps([roles, notes, [m.content for m in bot.history if m.role == "tool"]])
    """
)

LONG_CITY = "Llanfairpwllgwyngyll " * 150


@pytest.mark.parametrize(
    ("script", "tools", "interrupt_on", "roles"),
    [
        # While the arguments stream: nothing of the answer is kept, the question is taken back.
        (f"[ToolCall('lookup', {{'city': {LONG_CITY!r}}}), 'ok']", "[lookup]", "Calling", []),
        # While the tool runs: the call is answered as not run.
        (
            "[ToolCall('slow_lookup', {'city': 'Paris'}), 'ok']",
            "[slow_lookup]",
            "TOOL RUNNING",
            ["user", "assistant", "tool"],
        ),
        # While the final answer streams: the partial answer is kept, noted as interrupted.
        (
            "[ToolCall('lookup', {'city': 'Paris'}), MarkdownSample(8_000)]",
            "[lookup]",
            "Streaming",
            ["user", "assistant", "tool", "assistant"],
        ),
    ],
    ids=["arguments", "tool", "answer"],
)
def test_an_interrupt_at_each_point_leaves_a_history_the_api_accepts(
    kernel: Kernel, script: str, tools: str, interrupt_on: str, roles: list[str]
) -> None:
    kernel.run(SETUP).ok()
    kernel.run(f"bot = Chatbot.mock({script}, tools={tools}, itl_ms=10)").ok()
    run = kernel.run("bot.ask('What is the weather in Paris?')", interrupt_on=interrupt_on)
    assert run.reply["status"] == "error" and run.reply["ename"] == "AnswerInterrupted"
    assert len(run.reply["traceback"]) == 1  # plain words, not a traceback
    seen = kernel.run("print(state(bot))").ok().frontend.text()
    kept_roles, notes, results = json.loads(seen)
    assert kept_roles == roles
    blocks = [m for m in run.frontend.markdown() if "<code>lookup</code>" in m]
    blocks += [m for m in run.frontend.markdown() if "<code>slow_lookup</code>" in m]
    if interrupt_on != "Streaming":  # the call never ran: its block says so, not "Calling…"
        assert blocks and all(b.startswith("<details><summary>✗") for b in blocks)
    if interrupt_on == "TOOL RUNNING":
        assert results == ["Not run: the user interrupted the answer before this call ran."]
    if interrupt_on == "Streaming":
        assert notes[-1] == "interrupted"
        assert "Streaming" in "".join(run.frontend.markdown())  # on screen, and kept
    again = kernel.run("bot.display = False\nprint(bot.ask('Still there?', tools=[]) != '')")
    assert again.ok().frontend.text().strip() == "True"
    kernel.run("print(state(bot))").ok()


def test_calls_show_live_then_settle_with_their_result(kernel: Kernel) -> None:
    kernel.run(SETUP).ok()
    run = kernel.run(
        "bot = Chatbot.mock(tools=[lookup], itl_ms=1)\n"
        "answer = bot.ask('What is the weather in Paris?')"
    ).ok()
    shown = run.frontend.markdown()
    block = next(m for m in shown if "<code>lookup</code>" in m)
    assert block.startswith("<details><summary>✓ <code>lookup</code>")  # settled: closed, timed
    assert '"city": "Lisbon"' in block and "sunny" in block
    assert any("The tools answered" in m for m in shown)
    live = [
        m["content"]["data"]["text/markdown"]
        for m in run.display_messages()
        if "Calling" in m["content"]["data"].get("text/markdown", "")
    ]
    assert live and all("<details open>" in m for m in live)
