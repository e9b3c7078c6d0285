"""The inputs of an experiment, whatever shape they come in, as numbered cases with a prompt.

Inputs may be a list of prompts, a list of dicts (or a pandas DataFrame, read by its records)
with a ``template`` whose ``{column}`` fields are filled in from each row (``{{`` and ``}}`` are
literal braces, as in ``%%chat``), or rows with a ``prompt`` column. A row's values stay with
its case, so scorers can compare an answer with the row's ``expected`` column.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ChatnbError

__all__ = ["Case", "cases"]


@dataclass(frozen=True)
class Case:
    """One input: its position, the prompt sent, and the row it came from."""

    index: int
    prompt: str
    row: Mapping[str, Any] = field(default_factory=dict)


def _records(inputs: Any) -> list[Any]:
    if isinstance(inputs, str):
        return [inputs]
    to_dict = getattr(inputs, "to_dict", None)
    if callable(to_dict) and hasattr(inputs, "columns"):  # a pandas DataFrame
        return list(to_dict("records"))
    if isinstance(inputs, Iterable):
        return list(inputs)
    raise TypeError(f"inputs: a prompt, a list of prompts or rows, or a DataFrame, not {inputs!r}")


def _filled(template: str, row: Mapping[str, Any], index: int) -> str:
    wanted = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    missing = [name for name in wanted if name not in row]
    if missing:
        raise ChatnbError(
            f"The template names {{{missing[0]}}}, but row {index} has no such column "
            f"(its columns: {', '.join(map(str, row)) or 'none'}). Write {{{{ and }}}} for "
            "literal braces."
        )
    return template.format_map(row)


def cases(inputs: Any, template: str | None = None) -> list[Case]:
    """Number the inputs and make each one's prompt.

    Args:
        inputs: Prompts (strings), rows (dicts) or a pandas DataFrame.
        template: The prompt made of each row, with ``{column}`` fields filled in.
    """
    found = []
    for index, item in enumerate(_records(inputs)):
        if isinstance(item, str):
            row: Mapping[str, Any] = {"input": item}
            prompt = _filled(template, {"input": item}, index) if template else item
        elif isinstance(item, Mapping):
            row = dict(item)
            if template is not None:
                prompt = _filled(template, row, index)
            elif "prompt" in row:
                prompt = str(row["prompt"])
            else:
                raise ChatnbError(
                    f"Row {index} is a dict: give a template= with {{column}} fields, or a "
                    "'prompt' column."
                )
        else:
            raise TypeError(f"input {index}: a prompt or a dict of columns, not {item!r}")
        found.append(Case(index, prompt, row))
    if not found:
        raise ChatnbError("The experiment has no inputs.")
    return found
