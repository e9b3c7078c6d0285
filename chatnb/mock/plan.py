"""What the mock will answer, before any wire format: a plan of typed steps per choice.

The engine decides the answer (which text, cut into which pieces, how it finishes, what it
costs); an encoder (:mod:`~chatnb.mock.chat_completions`, :mod:`~chatnb.mock.responses`)
turns the plan into the frames of one wire format. A new kind of answer (reasoning, tool
calls, JSON) is a new step type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..schema import FinishReason

__all__ = [
    "AnswerPlan",
    "CallPlan",
    "ChoicePlan",
    "Reasoning",
    "ReasoningDialect",
    "Step",
    "Text",
    "ToolCalls",
]

ReasoningDialect = Literal["reasoning_content", "reasoning", "think-tags"]


@dataclass(frozen=True, slots=True)
class Text:
    """Answer text, in the pieces it streams as."""

    pieces: tuple[str, ...]

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@dataclass(frozen=True, slots=True)
class Reasoning:
    """A thinking model's reasoning before the answer, in its pieces, and the dialect it
    streams in: ``delta.reasoning_content`` (DeepSeek), ``delta.reasoning`` (Ollama, vLLM,
    OpenRouter) or ``<think>`` tags inline in the content (distills served raw)."""

    pieces: tuple[str, ...]
    dialect: ReasoningDialect

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@dataclass(frozen=True, slots=True)
class CallPlan:
    """One tool call: its id, the function's name, and its JSON arguments in their pieces."""

    id: str
    name: str
    pieces: tuple[str, ...]

    @property
    def arguments(self) -> str:
        return "".join(self.pieces)


@dataclass(frozen=True, slots=True)
class ToolCalls:
    """The model calls tools (several: parallel calls), streamed one after the other."""

    calls: tuple[CallPlan, ...]

    @property
    def pieces(self) -> tuple[str, ...]:
        """One delta to start each call, then its argument pieces."""
        return tuple(piece for call in self.calls for piece in ("", *call.pieces))


#: One step of a choice's answer.
Step = Text | Reasoning | ToolCalls


@dataclass(frozen=True, slots=True)
class ChoicePlan:
    """One choice: its steps in order, and how it finishes."""

    steps: tuple[Step, ...]
    finish_reason: FinishReason

    @property
    def text(self) -> str:
        return "".join(step.text for step in self.steps if isinstance(step, Text))

    @property
    def pieces(self) -> int:
        """How many deltas the choice streams."""
        return sum(len(step.pieces) for step in self.steps)

    @property
    def arguments(self) -> str:
        """The arguments of the choice's tool calls, one after the other (for counting)."""
        calls = (c for step in self.steps if isinstance(step, ToolCalls) for c in step.calls)
        return "".join(call.arguments for call in calls)


@dataclass(frozen=True, slots=True)
class AnswerPlan:
    """The whole answer to one request."""

    model: str
    choices: tuple[ChoicePlan, ...]
    prompt_tokens: int
    completion_tokens: int
    #: Of the completion tokens, those spent reasoning.
    reasoning_tokens: int = 0
    #: Of the prompt tokens, those the provider's prompt cache served.
    cached_tokens: int = 0
