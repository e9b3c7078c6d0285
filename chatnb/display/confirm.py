"""Asking the person before a tool runs, inside a widget: two buttons, and the answer awaited.

A widget's ask runs as a task on the kernel's event loop, where ``input()`` cannot be used;
the buttons' clicks arrive as widget messages while the task awaits the answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["confirm_in_widget"]


async def confirm_in_widget(output: Any, question: str) -> bool:
    """Show ``question`` with Run / Skip buttons in ``output``; True when Run is clicked."""
    import ipywidgets
    from IPython.display import display

    answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    run = ipywidgets.Button(description="Run", button_style="success")
    skip = ipywidgets.Button(description="Skip")
    label = ipywidgets.Label(question)
    row = ipywidgets.HBox([label, run, skip])

    def decide(verdict: bool) -> Any:
        def clicked(_: Any) -> None:
            if not answer.done():
                answer.set_result(verdict)

        return clicked

    run.on_click(decide(True))
    skip.on_click(decide(False))
    if isinstance(output, ipywidgets.Box):
        output.children = (*output.children, row)
    else:
        with output:
            display(row)  # type: ignore[no-untyped-call]
    try:
        verdict = await answer
    finally:
        run.disabled = skip.disabled = True
    label.value = f"{question} {'run' if verdict else 'skipped'}"
    return verdict
