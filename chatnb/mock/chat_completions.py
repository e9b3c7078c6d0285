"""The Chat Completions wire format of a plan: ``chat.completion`` and its streamed chunks.

Frames are written as the real API writes them: compact JSON with exactly the fields it sets,
the role in each choice's first chunk only, the deltas of all choices interleaved, one
finish_reason per choice, the usage chunk with ``choices: []`` when asked for.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from collections.abc import Iterator
from typing import Any

from ..schema import (
    ChatCompletionChunk,
    ChatCompletionResponse,
    ChatMessage,
    Choice,
    ChunkChoice,
    Delta,
    Usage,
    to_json,
)
from .plan import AnswerPlan, ChoicePlan, Reasoning, Text

__all__ = ["FINGERPRINT", "completion", "completion_id", "stream_frames"]

FINGERPRINT = "fp_chatnb_mock"


def completion_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "chatcmpl-" + "".join(secrets.choice(alphabet) for _ in range(29))


def _usage(plan: AnswerPlan) -> Usage:
    usage = Usage(
        prompt_tokens=plan.prompt_tokens,
        completion_tokens=plan.completion_tokens,
        total_tokens=plan.prompt_tokens + plan.completion_tokens,
    )
    if plan.reasoning_tokens:
        usage.completion_tokens_details = {"reasoning_tokens": plan.reasoning_tokens}
    return usage


def _deltas(choice: ChoicePlan) -> list[tuple[str, str]]:
    """(delta field, text) of each delta a choice streams, in order."""
    deltas: list[tuple[str, str]] = []
    for step in choice.steps:
        if isinstance(step, Text):
            deltas += [("content", piece) for piece in step.pieces]
        elif step.dialect == "think-tags":
            pieces = ["<think>\n", *step.pieces, "\n</think>\n\n"]
            deltas += [("content", piece) for piece in pieces]
        else:
            deltas += [(step.dialect, piece) for piece in step.pieces]
    return deltas


def _message(choice: ChoicePlan) -> ChatMessage:
    reasoning = next((s for s in choice.steps if isinstance(s, Reasoning)), None)
    if reasoning is None:
        return ChatMessage(role="assistant", content=choice.text, refusal=None)
    if reasoning.dialect == "think-tags":
        content = f"<think>\n{reasoning.text}\n</think>\n\n{choice.text}"
        return ChatMessage(role="assistant", content=content, refusal=None)
    fields = {"role": "assistant", "content": choice.text, "refusal": None}
    return ChatMessage.model_validate({**fields, reasoning.dialect: reasoning.text})


def completion(plan: AnswerPlan) -> ChatCompletionResponse:
    """The plan as one non-streamed ``chat.completion``."""
    return ChatCompletionResponse(
        id=completion_id(),
        object="chat.completion",
        created=int(time.time()),
        model=plan.model,
        system_fingerprint=FINGERPRINT,
        choices=[
            Choice(
                index=index,
                message=_message(choice),
                logprobs=None,
                finish_reason=choice.finish_reason,
            )
            for index, choice in enumerate(plan.choices)
        ],
        usage=_usage(plan),
    )


class _ChunkWriter:
    """Frames of one streamed answer; every frame shares the answer's header fields."""

    def __init__(self, plan: AnswerPlan) -> None:
        self._header: dict[str, Any] = {
            "id": completion_id(),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": plan.model,
            "system_fingerprint": FINGERPRINT,
        }
        self._templates: dict[tuple[int, str], tuple[bytes, bytes]] = {}

    def frame(self, choices: list[ChunkChoice], usage: Usage | None = None) -> bytes:
        # Only the fields the API sets are set, so that the dump matches its frames.
        fields = {**self._header, "choices": choices, **({"usage": usage} if usage else {})}
        chunk = ChatCompletionChunk.model_construct(**fields)
        return b"data: " + to_json(chunk).encode() + b"\n\n"

    def delta(self, index: int, name: str, piece: str) -> bytes:
        """A delta of one field: one chunk is dumped by the model, each piece only fills it."""
        key = (index, name)
        if key not in self._templates:
            marker = "\x00chatnb\x00"
            delta = Delta.model_validate({name: marker})
            choice = ChunkChoice(index=index, delta=delta, logprobs=None, finish_reason=None)
            before, after = self.frame([choice]).split(json.dumps(marker).encode())
            self._templates[key] = before, after
        before, after = self._templates[key]
        return before + json.dumps(piece, ensure_ascii=False).encode() + after


def stream_frames(plan: AnswerPlan, *, include_usage: bool) -> Iterator[tuple[bool, bytes]]:
    """(does this frame carry a token, its bytes), in the order the API sends them."""
    writer = _ChunkWriter(plan)
    for index in range(len(plan.choices)):
        delta = Delta(role="assistant", content="", refusal=None)
        yield (
            True,
            writer.frame(
                [ChunkChoice(index=index, delta=delta, logprobs=None, finish_reason=None)]
            ),
        )
    deltas = [_deltas(choice) for choice in plan.choices]
    for position in range(max((len(d) for d in deltas), default=0)):
        for index, pieces in enumerate(deltas):
            if position < len(pieces):
                yield True, writer.delta(index, *pieces[position])
    for index, choice in enumerate(plan.choices):
        end = ChunkChoice(
            index=index, delta=Delta(), logprobs=None, finish_reason=choice.finish_reason
        )
        yield False, writer.frame([end])
    if include_usage:
        yield False, writer.frame([], _usage(plan))
