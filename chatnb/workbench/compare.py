"""Side-by-side comparisons: one prompt (or several) against variants of a Chatbot.

    results = await chatnb.compare("Explain SSE.", [
        {"system": "Be brief."},
        {"system": "Be brief.", "temperature": 1.2},
        {"model": "gpt-4o", "system": "You are a teacher."},
    ])
    pandas.DataFrame(results.to_records())

Every (prompt, variant) runs at once, each on its own copy of the Chatbot, streaming into its
own column; a table of latency, tokens and cost follows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..chatbot import Chatbot, setting_names
from ..display import kernel_shell
from ..errors import AnswerInterrupted, ChatnbError, OptionError
from ..explain import in_variant, not_a_variant
from ..markdown.safety import escape_text
from ..options import checked_options
from ..usage import TurnUsage, dollars
from . import default_chatbot
from .answer_table import Answer, table_bundle

__all__ = ["Comparison", "Grid", "Result", "compare"]


@dataclass(frozen=True)
class Result:
    """One answer of a comparison."""

    prompt: str
    variant: str
    settings: Mapping[str, Any]
    answer: str
    usage: TurnUsage | None
    error: str | None = None

    def record(self) -> dict[str, Any]:
        """A flat dict (one row of a DataFrame)."""
        usage = self.usage
        return {
            "prompt": self.prompt,
            "variant": self.variant,
            **{f"setting.{k}": v for k, v in self.settings.items()},
            "answer": self.answer,
            "error": self.error,
            "ttft_s": usage.ttft_s if usage else None,
            "total_s": usage.total_s if usage else None,
            "prompt_tokens": usage.billed_prompt_tokens if usage else None,
            "completion_tokens": usage.billed_completion_tokens if usage else None,
            "cost_usd": usage.cost_usd if usage else None,
        }


class Comparison(list[Result]):
    """The results, prompt by prompt, variant by variant; renders as a table."""

    def to_records(self) -> list[dict[str, Any]]:
        return [result.record() for result in self]

    def _repr_markdown_(self) -> str:
        def seconds(value: float | None) -> str:
            return "?" if value is None else f"{value:.2f} s"

        lines = [
            "| prompt | variant | first token | total | tokens in | tokens out | cost |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for r in self:
            u = r.usage
            if u is None:
                lines.append(
                    f"| {_cell(r.prompt)} | {_cell(r.variant, 80)} "
                    f"| failed: {_cell(r.error or '')} | | | | |"
                )
                continue
            cost = dollars(u.cost_usd, markdown=True)
            lines.append(
                f"| {_cell(r.prompt)} | {_cell(r.variant, 80)} | {seconds(u.ttft_s)} "
                f"| {seconds(u.total_s)} "
                f"| {u.billed_prompt_tokens:,} | {u.billed_completion_tokens:,} | {cost} |"
            )
        return "\n".join(lines)


def _cell(text: str, limit: int = 40) -> str:
    """A prompt, a variant's name or an error in a table cell or a grid's label: plain text,
    on one line, shortened (:func:`chatnb.markdown.safety.escape_text`)."""
    return escape_text(text.strip(), limit)


def checked_variants(variants: Sequence[Any]) -> None:
    """Nothing if each variant is a Chatbot or a mapping of what changes (``name``, Chatbot
    settings, request options); else an error that names the variant and the closest key."""
    own = setting_names() | {"name"}
    for number, variant in enumerate(variants, start=1):
        if isinstance(variant, Chatbot):
            continue
        if not isinstance(variant, Mapping):
            raise not_a_variant(number, variant)
        try:
            checked_options({k: v for k, v in variant.items() if k not in own}, also_known=own)
        except OptionError as error:
            raise in_variant(number, error) from None


def _variant_name(index: int, settings: Mapping[str, Any]) -> str:
    if "name" in settings:
        return str(settings["name"])
    shown = ", ".join(f"{k}={v!r}" for k, v in settings.items())
    return shown or f"variant {index + 1}"


async def compare(
    prompts: str | Sequence[str],
    variants: Sequence[Mapping[str, Any]],
    *,
    bot: Chatbot | None = None,
    display: bool = True,
) -> Comparison:
    """Run every prompt against every variant at once and show them side by side.

    In a notebook, ``await`` it in a cell; in a script, ``asyncio.run(compare(...))``.

    Args:
        prompts: One prompt, or several.
        variants: What each variant changes: a mapping of ``system``, ``model``, any
            sampling option (``temperature``, ``top_p``, ``max_tokens``, ...), and an
            optional ``name``.
        bot: The client and the conversation every variant starts from (default:
            :func:`~chatnb.workbench.default_chatbot`).
        display: Show the answers side by side as they stream.
    """
    prompt_list = [prompts] if isinstance(prompts, str) else list(prompts)
    if not prompt_list or not variants:
        raise ChatnbError("compare needs at least one prompt and one variant.")
    checked_variants(variants)
    base = bot if bot is not None else default_chatbot()
    names = [_variant_name(i, v) for i, v in enumerate(variants)]
    live = display and kernel_shell() is not None
    grid = _grid(prompt_list, names) if live else None

    async def run(row: int, column: int) -> Result:
        settings = dict(variants[column])
        prompt, name = prompt_list[row], names[column]
        twin = base.copy(display=False, **{k: v for k, v in settings.items() if k != "name"})
        output = grid.outputs[row][column] if grid is not None else None
        try:
            answer = await twin.aask(prompt, output=output)
        except AnswerInterrupted:
            raise  # an interrupt stops the whole comparison, as it stops a cell
        except ChatnbError as error:
            if grid is not None:
                with grid.cells[row][column]:
                    print(f"{type(error).__name__}: {error}")
            return Result(prompt, name, settings, getattr(error, "partial", ""), None, str(error))
        return Result(prompt, name, settings, str(answer), answer.usage)

    jobs = [run(r, c) for r in range(len(prompt_list)) for c in range(len(variants))]
    results = Comparison(await asyncio.gather(*jobs))
    if grid is not None:
        answers = iter(results)
        grid.finish([[_answer(next(answers)) for _ in names] for _ in prompt_list])
        from IPython.display import display as show

        table = results._repr_markdown_()
        show({"text/markdown": table, "text/plain": table}, raw=True)  # type: ignore[no-untyped-call]
    return results


#: The padding of each cell of the grid (CSS).
CELL_PADDING = "2px 6px"


def _grid_box(prompts: list[str], names: list[str]) -> tuple[Any, list[list[Any]]]:
    """A box of rows: the variant names, then per prompt its label and a row of Outputs. Each
    row is a grid of its own with one cell per variant, so an answer is always under its
    variant's name (a child spanning columns, ``grid_column``, never reaches the page in
    JupyterLab or Notebook 7: ipywidgets #2334)."""
    import ipywidgets as widgets

    columns = f"repeat({len(names)}, minmax(0, 1fr))"

    def row(children: list[Any]) -> Any:
        return widgets.GridBox(
            children, layout=widgets.Layout(grid_template_columns=columns, grid_gap="8px")
        )

    # Room on each side of every cell, the same for names, labels and answers, so their text
    # lines up and one column's answer never runs into the next one's.
    def padded() -> Any:
        return widgets.Layout(padding=CELL_PADDING)

    header = [widgets.HTML(f"<b>{_cell(name, 200)}</b>", layout=padded()) for name in names]
    rows = [row(header)]
    outputs = [[widgets.Output(layout=padded()) for _ in names] for _ in prompts]
    for prompt, cells in zip(prompts, outputs, strict=True):
        if len(prompts) > 1:
            rows.append(widgets.HTML(f"<i>{_cell(prompt, 120)}</i>", layout=padded()))
        rows.append(row(cells))
    return widgets.VBox(rows, layout=widgets.Layout(grid_gap="4px")), outputs


def _answer(result: Result) -> Answer:
    return Answer(result.answer, result.error)


def _close_tree(widget: Any) -> None:
    """Close ``widget``, its children and the layout and style widgets each one has (closing
    a widget leaves those open)."""
    from ipywidgets import Widget

    for child in getattr(widget, "children", ()):
        _close_tree(child)
    for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
        if isinstance(part, Widget):
            part.close()
    widget.close()


@dataclass
class Grid:
    """A grid shown in the cell while the answers stream, and :meth:`finish` to leave a
    static table in its place. ``cells``: its Output widgets, a row per prompt and a column
    per variant; ``outputs``: the Box shown in each, where the answer goes (a sink adds its
    widgets to a Box as children, so closing the Box reaches every one of them; widgets
    displayed inside an Output are out of the kernel's reach)."""

    prompts: list[str]
    names: list[str]
    box: Any
    handle: Any
    cells: list[list[Any]]
    outputs: list[list[Any]]

    def finish(self, answers: list[list[Answer]]) -> None:
        """Replace the grid, in the same output, by one static table of ``answers`` (a row per
        prompt), and close its widgets: a saved notebook holds the answers, not the widgets'
        fallback text, and no widget is left open in the kernel."""
        self.handle.update(table_bundle(self.names, self.prompts, answers), raw=True)
        for row in self.outputs:
            for target in row:
                _close_tree(target)
        _close_tree(self.box)


def _grid(prompts: list[str], names: list[str]) -> Grid:
    """Shows :func:`_grid_box`, a Box in each of its Outputs: a :class:`Grid`."""
    import ipywidgets as widgets
    from IPython.display import display

    box, cells = _grid_box(prompts, names)
    handle = display(box, display_id=True)  # type: ignore[no-untyped-call]
    outputs = [[widgets.VBox() for _ in row] for row in cells]
    for cell_row, output_row in zip(cells, outputs, strict=True):
        for cell, target in zip(cell_row, output_row, strict=True):
            with cell:
                display(target)  # type: ignore[no-untyped-call]
    return Grid(prompts, names, box, handle, cells, outputs)
