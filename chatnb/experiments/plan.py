"""What an experiment runs: the cases, one Chatbot per variant, the repeats, the scorers; and
how a trial gets its scores. Shared by the live runner and the batch runner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..chatbot import Chatbot
from .inputs import Case
from .results import Trial
from .scorers import Scorer, run_scorer
from .throttle import Throttle

__all__ = ["Job", "Plan", "scored"]

#: One trial to run: the case, the variant's number, the repeat's number.
Job = tuple[Case, int, int]


@dataclass
class Plan:
    """What an experiment runs: the cases, the variants' bots, the scorers."""

    cases: list[Case]
    names: list[str]
    bots: list[Chatbot]
    repeats: int
    scorers: list[tuple[str, Scorer]]
    #: The throttles of the clients the live run sends through (none for a batch).
    throttles: list[Throttle]

    def jobs(self) -> list[Job]:
        return [
            (case, variant, repeat)
            for case in self.cases
            for variant in range(len(self.bots))
            for repeat in range(self.repeats)
        ]


def scorer_names(scorers: Sequence[Scorer]) -> list[tuple[str, Scorer]]:
    named = []
    for number, scorer in enumerate(scorers, start=1):
        name = getattr(scorer, "__name__", "")
        named.append((name if name and name != "<lambda>" else f"score {number}", scorer))
    return named


async def scored(plan: Plan, trial: Trial, case: Case) -> Trial:
    """``trial`` with every scorer's verdict on its answer."""
    if trial.error is not None:
        return trial
    row = {**case.row, "prompt": case.prompt}
    for name, scorer in plan.scorers:
        score = await run_scorer(scorer, trial.answer, row)
        trial.scores[name] = score.value
        if score.reason:
            trial.reasons[name] = score.reason
    return trial
