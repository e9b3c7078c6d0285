"""Scorers: how good an answer is, as a number from 0 to 1 (``True`` is 1), with a reason.

A scorer is any function of the answer, or of the answer and its input row (its ``expected``
column, say), sync or async; it may return a number, a bool, or a :class:`Score` with a reason.
Built in: :func:`contains`, :func:`matches` (a regex), :func:`equals`, :func:`valid_json` (against a
pydantic model) and :func:`judge`, an LLM judge that answers through structured output (a
pydantic :class:`Verdict`), so its verdict always parses.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, Field, ValidationError

if TYPE_CHECKING:
    from ..chatbot import Chatbot

__all__ = [
    "Score",
    "Scorer",
    "Verdict",
    "contains",
    "equals",
    "judge",
    "matches",
    "named",
    "run_scorer",
    "valid_json",
]

#: A score counts as a pass at this value or above.
PASS_AT = 0.5


@dataclass(frozen=True)
class Score:
    """A score from 0 to 1, and why."""

    value: float
    reason: str | None = None


ScoreLike = float | bool | Score
Scorer = Callable[..., ScoreLike | Awaitable[ScoreLike]]


def named(scorer: Scorer, name: str) -> Scorer:
    """``scorer`` under another name (the column it gets in the results)."""
    scorer.__name__ = name
    return scorer


def _takes_row(scorer: Scorer) -> bool:
    try:
        parameters = inspect.signature(scorer).parameters
    except (TypeError, ValueError):
        return False
    return len(parameters) >= 2


async def run_scorer(scorer: Scorer, answer: str, row: Mapping[str, Any]) -> Score:
    """The scorer's verdict on one answer; a scorer that fails scores nothing, saying why."""
    try:
        value = scorer(answer, row) if _takes_row(scorer) else scorer(answer)
        if inspect.isawaitable(value):
            value = await value
    except Exception as error:  # a broken scorer must not stop the experiment
        return Score(float("nan"), f"the scorer failed: {type(error).__name__}: {error}")
    if isinstance(value, Score):
        return value
    return Score(float(value))


def contains(text: str, *, case_sensitive: bool = False) -> Scorer:
    """1 if the answer contains ``text``.

    Args:
        text: What the answer must contain.
        case_sensitive: Whether case matters.
    """

    def scorer(answer: str) -> bool:
        return text in answer if case_sensitive else text.lower() in answer.lower()

    return named(scorer, f"contains {text!r}")


def matches(pattern: str, flags: int = 0) -> Scorer:
    """1 if the regular expression ``pattern`` is found in the answer.

    Args:
        pattern: A regular expression (Python's ``re``), searched anywhere in the answer.
        flags: ``re`` flags (``re.IGNORECASE``, ...).
    """
    compiled = re.compile(pattern, flags)
    return named(lambda answer: compiled.search(answer) is not None, f"matches {pattern!r}")


def equals(column: str = "expected", *, strip: bool = True, case_sensitive: bool = False) -> Scorer:
    """1 if the answer is the row's ``column`` (stripped, case-insensitive by default).

    Args:
        column: The input row's field that holds the expected answer.
        strip: Ignore white space around both.
        case_sensitive: Whether case matters.
    """

    def normal(value: Any) -> str:
        text = str(value).strip() if strip else str(value)
        return text if case_sensitive else text.lower()

    def scorer(answer: str, row: Mapping[str, Any]) -> bool:
        return normal(answer) == normal(row[column])

    return named(scorer, f"equals {column}")


def valid_json(model: type[BaseModel]) -> Scorer:
    """1 if the answer is JSON valid against ``model``; the reason says what is wrong.

    Args:
        model: The pydantic model the answer must validate against.
    """

    def scorer(answer: str) -> Score:
        try:
            model.model_validate_json(answer)
        except ValidationError as invalid:
            first = invalid.errors(include_url=False)[0]
            return Score(0.0, f"{'.'.join(map(str, first['loc'])) or 'answer'}: {first['msg']}")
        return Score(1.0)

    return named(scorer, f"valid {model.__name__}")


class Verdict(BaseModel):
    """What a judge answers: a grade from 1 (fails the criteria) to 5 (meets them fully)."""

    reason: Annotated[str, Field(description="One or two sentences: why this grade.")]
    score: Annotated[int, Field(ge=1, le=5, description="1 = fails the criteria, 5 = meets them")]


JUDGE_SYSTEM = (
    "You grade answers. Given the criteria, the question and the answer, give a short reason "
    "and then a grade from 1 (fails the criteria) to 5 (meets them fully). Judge only against "
    "the criteria."
)


def judge(criteria: str, *, bot: Chatbot | None = None, name: str = "judge") -> Scorer:
    """An LLM judge: ``bot`` (default: the experiment's own model, on a fresh conversation)
    grades each answer against ``criteria`` through structured output; the grade 1-5 becomes
    a score from 0 to 1, and the judge's reason is kept.

    Args:
        criteria: What a good answer does, in words the judge grades against.
        bot: The judge's Chatbot (default: the experiment's own model, on a fresh
            conversation).
        name: The scorer's name in the summary.
    """

    async def scorer(answer: str, row: Mapping[str, Any]) -> Score:
        from ..workbench import default_chatbot

        grader = (bot or default_chatbot()).copy(system=JUDGE_SYSTEM, display=False, tools=[])
        grader.history.clear()
        question = row.get("prompt", row.get("input", ""))
        prompt = f"Criteria: {criteria}\n\nQuestion: {question}\n\nAnswer: {answer}"
        verdict = (await grader.aask(prompt, response_format=Verdict)).parsed
        return Score((verdict.score - 1) / 4, verdict.reason)

    return named(scorer, name)
