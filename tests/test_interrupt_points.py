"""An ask is a transaction: a Ctrl-C (the kernel's SIGINT) landing at any point of it, even a
second one during the cleanup of the first, leaves either the History as it was or the History
with the partial answer noted; never a question without an answer, never a lost answer that
was on screen. Each point is hit exactly: the code at that point sends SIGINT to the kernel
itself, as the stop button does."""

from __future__ import annotations

import json
import textwrap

import pytest

from .kernel import Kernel

SETUP = textwrap.dedent(
    """
    import json, os, signal
    from chatnb import Chatbot
    from chatnb.mock import MarkdownSample
    import chatnb.exchange, chatnb.history, chatnb.display.views

    def stop_at(owner, name, at=1):
        "Make the `at`-th next call of owner.name send SIGINT to this kernel."
        original, calls = getattr(owner, name), [0]
        def interrupted(*args, **kwargs):
            calls[0] += 1
            if calls[0] == at:
                os.kill(os.getpid(), signal.SIGINT)
            return original(*args, **kwargs)
        setattr(owner, name, interrupted)
        return lambda: setattr(owner, name, original)

    def state(bot):
        return json.dumps([[m.role, bot.history.note(m), (m.content or "")[:40]] for m in bot.history])
    """
)


@pytest.mark.parametrize(
    ("stops", "kept", "noted"),
    [
        # While the prompt is fitted to the budget: the question is taken back.
        ([("chatnb.history.History", "fitting", 1)], ["user", "assistant"], None),
        # While the answer streams: the partial answer is kept, noted.
        ([("chatnb.exchange.Exchange", "_frame", 20)], ["user", "assistant"] * 2, "interrupted"),
        # A second Ctrl-C while the first one's cleanup closes the display: held, then told.
        (
            [
                ("chatnb.exchange.Exchange", "_frame", 20),
                ("chatnb.display.views.Views", "close", 1),
            ],
            ["user", "assistant"] * 2,
            "interrupted",
        ),
        # While the finished answer is committed: it is committed whole.
        ([("chatnb.history.History", "drop_oldest", 1)], ["user", "assistant"] * 2, None),
    ],
    ids=["fitting", "streaming", "second ctrl-c in cleanup", "commit"],
)
def test_an_interrupt_at_each_point_keeps_the_history_whole(
    kernel: Kernel, stops: list[tuple[str, str, int]], kept: list[str], noted: str | None
) -> None:
    kernel.run(SETUP).ok()
    kernel.run(
        "bot = Chatbot.mock(MarkdownSample(3_000, 2), itl_ms=1)\nbot.ask('First question')"
    ).ok()
    patches = ", ".join(f"stop_at({owner}, {name!r}, {at})" for owner, name, at in stops)
    kernel.run(f"restores = [{patches}]").ok()
    run = kernel.run("bot.ask('Second question')")
    kernel.run("for restore in restores: restore()").ok()
    assert run.reply["status"] in ("ok", "error")
    if run.reply["status"] == "error":  # one paragraph, never a raw traceback
        assert run.reply["ename"] in ("AnswerInterrupted", "KeyboardInterrupt")
        assert len(run.reply["traceback"]) == 1
    roles = json.loads(kernel.run("print(state(bot))").ok().frontend.stdout())
    assert [r[0] for r in roles] == kept
    assert all(r[0] != "user" for r in roles[1::2])  # never two questions in a row
    assert roles[-1][1] == noted
    if stops[0][1] == "drop_oldest":  # the answer was whole: the message says so
        assert "complete and kept" in run.reply["traceback"][0]
    if noted:
        shown = "".join(run.frontend.markdown())
        assert roles[-1][2] and shown.startswith(roles[-1][2][:20])  # on screen and kept
    again = kernel.run("bot.display = False\nprint(bot.ask('Still there?') != '')").ok()
    assert again.frontend.stdout().strip() == "True"


def test_an_interrupt_while_an_async_answer_is_committed_cancels_the_cell_not_the_kernel(
    kernel: Kernel,
) -> None:
    # In an async cell ipykernel turns SIGINT into the cancellation of the cell's task; a
    # Ctrl-C held through the commit is handed to that handler, never raised inside a task of
    # its own (as an experiment's trials are), where a KeyboardInterrupt escapes asyncio's
    # loop and the kernel stops answering.
    kernel.run(SETUP).ok()
    kernel.run("bot = Chatbot.mock(MarkdownSample(3_000, 2), itl_ms=1, display=False)").ok()
    kernel.run("restore = stop_at(chatnb.history.History, 'drop_oldest', 1)").ok()
    run = kernel.run(
        "import asyncio\nanswer = await asyncio.ensure_future(bot.aask('A question'))\n"
        "await asyncio.sleep(1)\n"
        "print('went on')",
        timeout=30,
    )
    kernel.run("restore()").ok()
    assert "went on" not in run.frontend.stdout()  # the held interrupt stopped the cell
    roles = json.loads(kernel.run("print(state(bot))").ok().frontend.stdout())
    assert [r[0] for r in roles] == ["user", "assistant"] and roles[-1][1] is None  # whole
    again = kernel.run("print(bot.ask('Still there?') != '')", timeout=30).ok()
    assert again.frontend.stdout().strip() == "True"
