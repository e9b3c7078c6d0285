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
from .plan import AnswerPlan, Text

__all__ = ["FINGERPRINT", "completion", "completion_id", "stream_frames"]

FINGERPRINT = "fp_chatnb_mock"


def completion_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "chatcmpl-" + "".join(secrets.choice(alphabet) for _ in range(29))


def _usage(plan: AnswerPlan) -> Usage:
    return Usage(
        prompt_tokens=plan.prompt_tokens,
        completion_tokens=plan.completion_tokens,
        total_tokens=plan.prompt_tokens + plan.completion_tokens,
    )


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
                message=ChatMessage(role="assistant", content=choice.text, refusal=None),
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
        self._content: dict[int, tuple[bytes, bytes]] = {}

    def frame(self, choices: list[ChunkChoice], usage: Usage | None = None) -> bytes:
        # Only the fields the API sets are set, so that the dump matches its frames.
        fields = {**self._header, "choices": choices, **({"usage": usage} if usage else {})}
        chunk = ChatCompletionChunk.model_construct(**fields)
        return b"data: " + to_json(chunk).encode() + b"\n\n"

    def content(self, index: int, piece: str) -> bytes:
        """A content delta: one chunk is dumped by the model, each piece only fills it in."""
        if index not in self._content:
            marker = "\x00chatnb\x00"
            delta = Delta(content=marker)
            data = self.frame(
                [ChunkChoice(index=index, delta=delta, logprobs=None, finish_reason=None)]
            )
            before, after = data.split(json.dumps(marker).encode())
            self._content[index] = before, after
        before, after = self._content[index]
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
    deltas = [
        [piece for step in choice.steps if isinstance(step, Text) for piece in step.pieces]
        for choice in plan.choices
    ]
    for position in range(max((len(d) for d in deltas), default=0)):
        for index, pieces in enumerate(deltas):
            if position < len(pieces):
                yield True, writer.content(index, pieces[position])
    for index, choice in enumerate(plan.choices):
        end = ChunkChoice(
            index=index, delta=Delta(), logprobs=None, finish_reason=choice.finish_reason
        )
        yield False, writer.frame([end])
    if include_usage:
        yield False, writer.frame([], _usage(plan))
