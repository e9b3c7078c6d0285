"""Experiments in a real kernel: a big run shows progress in a few messages a second, and the
stop button keeps every finished trial."""

from __future__ import annotations

import textwrap

from .kernel import Kernel

SETUP = textwrap.dedent(
    """
    from chatnb import Chatbot, experiment
    from chatnb.experiments import contains
    bot = Chatbot.mock(ttft_ms=20, itl_ms=2, display=False)
    inputs = [f"question {n}" for n in range(300)]
    """
)


def test_a_big_run_shows_progress_not_a_display_per_trial(kernel: Kernel) -> None:
    kernel.run(SETUP).ok()
    run = kernel.run(
        "results = await experiment(inputs, [{'name': 'a'}, {'name': 'b'}], concurrency=32,"
        " scorers=[contains('question')], bot=bot)\n"
        "print(len(results), results.interrupted)"
    ).ok()
    assert run.frontend.stdout().strip().endswith("600 False")
    stamps = [m["header"]["date"] for m in run.messages]
    seconds = (stamps[-1] - stamps[0]).total_seconds()
    display = run.of_type("display_data", "update_display_data", "comm_msg", "comm_open")
    assert len(display) / max(seconds, 1.0) < 50  # the frontend is never flooded
    table = run.frontend.markdown()[-1]
    assert "| a | 300 | 0 |" in table and "| b | 300 | 0 |" in table
    bars = [w for w in run.frontend.widgets.values() if w.get("_model_name") == "IntProgressModel"]
    assert bars and bars[0]["value"] == 600


def test_the_stop_button_keeps_every_finished_trial(kernel: Kernel) -> None:
    kernel.run(SETUP).ok()
    run = kernel.run(
        "results = await experiment(inputs, concurrency=4, bot=bot)", interrupt_on="/300 done"
    )
    assert run.reply["status"] == "ok"  # the run ended early, and returned what it had
    shown = kernel.run(
        "print(results.interrupted, len(results), all(t.answer == t.prompt for t in results))"
    ).ok()
    interrupted, finished, answered = shown.frontend.stdout().split()
    assert interrupted == "True" and 0 < int(finished) < 300 and answered == "True"


def test_a_small_grid_streams_into_a_grid_of_cells(kernel: Kernel) -> None:
    kernel.run(SETUP).ok()
    run = kernel.run(
        "small = await experiment(['Hello **there**', 'Bye'], [{'name': 'x'}, {'name': 'y'}],"
        " repeats=2, bot=Chatbot.mock(itl_ms=1, display=False))"
    ).ok()
    grids = [w for w in run.frontend.widgets.values() if w.get("_model_name") == "GridBoxModel"]
    # A row per input and repeat, one cell per variant (and a row of the variants' names).
    assert (
        len(grids) == 5
        and all(len(g["children"]) == 2 for g in grids)
        and not [
            w for w in run.frontend.widgets.values() if w.get("_model_name") == "IntProgressModel"
        ]
    )
    cells = run.frontend.widget_markdown()
    assert sorted(cells) == sorted(["Hello **there**"] * 4 + ["Bye"] * 4)  # every cell answered
    assert "| x | 4 | 0 |" in run.frontend.markdown()[-1]


def test_one_final_table_where_the_progress_was_and_res_shows_in_the_next_cell(
    kernel: Kernel,
) -> None:
    kernel.run(SETUP).ok()
    run = kernel.run(
        "def broken(answer):\n    raise ZeroDivisionError('oops')\n"
        "res = await experiment(inputs[:40], scorers=[contains('question'), broken], bot=bot)"
    ).ok()
    # The progress widget's output became the final summary: one table, no widget left in the
    # saved outputs, and no "0%" for a viewer without widgets.
    assert len(run.frontend.outputs) == 1
    (output,) = run.frontend.outputs
    assert set(output["data"]) == {"text/markdown", "text/plain"}  # no widget view left
    (table,) = run.frontend.markdown()
    assert output["data"]["text/plain"] == table  # not the bar's fallback ("...'0%'...")
    assert "| variant 1 | 40 | 0 |" in table
    # A scorer that raised is counted, with its reason, under the table.
    assert "- **broken** failed on 40 of variant 1's answers" in table
    assert "ZeroDivisionError: oops" in table
    again = kernel.run("res").ok()  # the next cell shows it (it showed nothing before)
    assert again.frontend.markdown() == [table]
    once = kernel.run("await experiment(inputs[:30], bot=bot)").ok()
    assert len(once.frontend.markdown()) == 1  # as a cell's last line: shown once
