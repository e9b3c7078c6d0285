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
    FunctionCall,
    ToolCall,
    Usage,
    to_json,
)
from .plan import AnswerPlan, CallPlan, ChoicePlan, Reasoning, Text, ToolCalls

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
    if plan.cached_tokens:
        usage.prompt_tokens_details = {"cached_tokens": plan.cached_tokens}
    return usage


#: One delta of a choice: a text field and its piece, the start of a tool call, or a piece of
#: a tool call's arguments.
_Piece = tuple[str, str] | CallPlan | tuple[int, str]


def _deltas(choice: ChoicePlan) -> list[_Piece]:
    """The deltas a choice streams, in order."""
    deltas: list[_Piece] = []
    for step in choice.steps:
        if isinstance(step, Text):
            deltas += [("content", piece) for piece in step.pieces]
        elif isinstance(step, ToolCalls):
            for number, call in enumerate(step.calls):
                deltas += [call, *((number, piece) for piece in call.pieces)]
        elif step.dialect == "think-tags":
            pieces = ["<think>\n", *step.pieces, "\n</think>\n\n"]
            deltas += [("content", piece) for piece in pieces]
        else:
            deltas += [(step.dialect, piece) for piece in step.pieces]
    return deltas


def _calls(choice: ChoicePlan) -> list[ToolCall] | None:
    plans = [call for step in choice.steps if isinstance(step, ToolCalls) for call in step.calls]
    if not plans:
        return None
    return [
        ToolCall(
            id=c.id, type="function", function=FunctionCall(name=c.name, arguments=c.arguments)
        )
        for c in plans
    ]


def _started(number: int, call: CallPlan) -> dict[str, Any]:
    """The delta that opens a tool call, as the API writes it (arguments start empty)."""
    function = {"name": call.name, "arguments": ""}
    return {"index": number, "id": call.id, "type": "function", "function": function}


def _message(choice: ChoicePlan) -> ChatMessage:
    reasoning = next((s for s in choice.steps if isinstance(s, Reasoning)), None)
    calls = _calls(choice)
    if calls is not None:
        return ChatMessage(
            role="assistant", content=choice.text or None, tool_calls=calls, refusal=None
        )
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
        self._templates: dict[tuple[int, str | int], tuple[bytes, bytes]] = {}

    def frame(self, choices: list[ChunkChoice], usage: Usage | None = None) -> bytes:
        # Only the fields the API sets are set, so that the dump matches its frames.
        fields = {**self._header, "choices": choices, **({"usage": usage} if usage else {})}
        chunk = ChatCompletionChunk.model_construct(**fields)
        return b"data: " + to_json(chunk).encode() + b"\n\n"

    def delta(self, index: int, piece: _Piece) -> bytes:
        """One delta. Text pieces: one chunk is dumped by the model, each piece only fills it."""
        if isinstance(piece, CallPlan):
            raise TypeError("a tool call's start is written by start()")
        where, text = piece
        key = (index, where)
        if key not in self._templates:
            marker = "\x00chatnb\x00"
            fields: dict[str, Any]
            if isinstance(where, int):  # the arguments of tool call number `where`
                fields = {"tool_calls": [{"index": where, "function": {"arguments": marker}}]}
            else:
                fields = {where: marker}
            choice = ChunkChoice(
                index=index, delta=Delta.model_validate(fields), logprobs=None, finish_reason=None
            )
            before, after = self.frame([choice]).split(json.dumps(marker).encode())
            self._templates[key] = before, after
        before, after = self._templates[key]
        return before + json.dumps(text, ensure_ascii=False).encode() + after

    def start(self, index: int, number: int, call: CallPlan, *, first: bool) -> bytes:
        """The delta that opens tool call ``number``; the choice's first delta also carries
        the role (and a null content), as the API sends it."""
        fields: dict[str, Any] = {"tool_calls": [_started(number, call)]}
        if first:
            fields = {"role": "assistant", "content": None, **fields, "refusal": None}
        delta = Delta.model_validate(fields)
        return self.frame(
            [ChunkChoice(index=index, delta=delta, logprobs=None, finish_reason=None)]
        )


def stream_frames(plan: AnswerPlan, *, include_usage: bool) -> Iterator[tuple[bool, bytes]]:
    """(does this frame carry a token, its bytes), in the order the API sends them."""
    writer = _ChunkWriter(plan)
    deltas = [_deltas(choice) for choice in plan.choices]
    numbers = [-1] * len(deltas)  # the number of each choice's last tool call started
    for index, pieces in enumerate(deltas):
        first = pieces[0] if pieces else None
        if isinstance(first, CallPlan):  # the role rides on the first call
            numbers[index] = 0
            yield True, writer.start(index, 0, first, first=True)
            pieces.pop(0)
            continue
        delta = Delta(role="assistant", content="", refusal=None)
        yield (
            True,
            writer.frame(
                [ChunkChoice(index=index, delta=delta, logprobs=None, finish_reason=None)]
            ),
        )
    for position in range(max((len(d) for d in deltas), default=0)):
        for index, pieces in enumerate(deltas):
            if position < len(pieces):
                piece = pieces[position]
                if isinstance(piece, CallPlan):
                    numbers[index] += 1
                    yield True, writer.start(index, numbers[index], piece, first=False)
                else:
                    yield True, writer.delta(index, piece)
    for index, choice in enumerate(plan.choices):
        end = ChunkChoice(
            index=index, delta=Delta(), logprobs=None, finish_reason=choice.finish_reason
        )
        yield False, writer.frame([end])
    if include_usage:
        yield False, writer.frame([], _usage(plan))
