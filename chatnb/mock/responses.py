"""The Responses API wire format of a plan: a ``response`` object and its ``response.*`` events.

Beside :mod:`~chatnb.mock.chat_completions` (the same plans, the other wire). Written as the
API writes its stream: ``response.created`` and ``response.in_progress``, then each output item
opened (``output_item.added``), filled (reasoning summary parts and their text deltas, a
message's ``output_text`` part and deltas, a function call's argument deltas), closed with its
``.done`` events, and ``response.completed`` (or ``response.incomplete`` when the output limit
cut the answer) with the whole response and its usage. Every event has its ``sequence_number``
and is sent as ``event: <type>`` + ``data: <json>``; there is no ``[DONE]``.

A request that offers the built-in web search tool gets what the API sends for it: a
``web_search_call`` item (searching for the question) with its status events, and the answer
citing one source (a ``url_citation`` annotation). The source is a made-up ``example.org``
page, labelled as the mock's: nothing is fetched, by the mock or by what shows the answer.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

from .plan import AnswerPlan, ChoicePlan, Reasoning, Text, ToolCalls

__all__ = ["SEARCH_TOOLS", "error_frame", "response", "stream_frames"]

#: The built-in tool types the mock answers as a web search.
SEARCH_TOOLS = frozenset({"web_search", "web_search_preview", "web_search_2025_08_26"})


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


def _usage(plan: AnswerPlan) -> dict[str, Any]:
    return {
        "input_tokens": plan.prompt_tokens,
        "input_tokens_details": {"cached_tokens": plan.cached_tokens, "cache_write_tokens": 0},
        "output_tokens": plan.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": plan.reasoning_tokens},
        "total_tokens": plan.prompt_tokens + plan.completion_tokens,
    }


def _encrypted(text: str) -> str:
    """An opaque blob, as the API's encrypted reasoning looks (the mock's is only encoded)."""
    return "gAAAAB" + base64.urlsafe_b64encode(text.encode()).decode()


def _search_for(request: dict[str, Any]) -> str | None:
    """What a request that offers web search is searching for (its last user text), or None."""
    tools = request.get("tools") or []
    if not any(isinstance(t, dict) and t.get("type") in SEARCH_TOOLS for t in tools):
        return None
    question = request.get("input")
    if isinstance(question, list):
        users = [i for i in question if isinstance(i, dict) and i.get("role") == "user"]
        question = users[-1].get("content") if users else ""
        if isinstance(question, list):
            question = " ".join(str(p.get("text", "")) for p in question if isinstance(p, dict))
    words = " ".join(str(question or "").split())
    return words[:80] or "the question"


def _citation(query: str, text: str) -> dict[str, Any]:
    slug = "-".join("".join(c if c.isalnum() else " " for c in query.lower()).split())[:60]
    return {
        "type": "url_citation",
        "start_index": 0,
        "end_index": len(text),
        "title": f"Mock search result: {query}",
        "url": f"https://example.org/chatnb-mock/{slug or 'search'}",
    }


def _items(
    choice: ChoicePlan, encrypted: bool, search: str | None = None
) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
    """Each output item when whole, and the pieces it streams in."""
    items: list[tuple[dict[str, Any], tuple[str, ...]]] = []
    if search is not None:
        action = {"type": "search", "query": search}
        search_call = {"id": _id("ws"), "type": "web_search_call", "status": "completed"}
        items.append(({**search_call, "action": action}, ()))
    for step in choice.steps:
        if isinstance(step, Reasoning):
            summary = [{"type": "summary_text", "text": step.text}]
            item: dict[str, Any] = {"id": _id("rs"), "type": "reasoning", "summary": summary}
            if encrypted:
                item["encrypted_content"] = _encrypted(step.text)
            items.append((item, step.pieces))
        elif isinstance(step, Text):
            notes = [_citation(search, step.text)] if search is not None and step.text else []
            part = {"type": "output_text", "annotations": notes, "logprobs": [], "text": step.text}
            item = {"id": _id("msg"), "type": "message", "status": "completed"}
            items.append(({**item, "content": [part], "role": "assistant"}, step.pieces))
        elif isinstance(step, ToolCalls):
            for call in step.calls:
                item = {"id": _id("fc"), "type": "function_call", "status": "completed"}
                item |= {"arguments": call.arguments, "call_id": call.id, "name": call.name}
                items.append((item, call.pieces))
    return items


#: Fields the Open Responses spec requires in every response object (openai's own types leave
#: them optional). The mock never runs in the background and has one service tier.
_FIXED = {"background": False, "service_tier": "default"}

#: Settings the spec also requires, echoed from the request when given, else their default.
_ECHOED_SETTINGS: dict[str, Any] = {
    "frequency_penalty": 0.0,
    "max_tool_calls": None,
    "presence_penalty": 0.0,
    "prompt_cache_key": None,
    "safety_identifier": None,
    "top_logprobs": 0,
    "user": None,
}


class _Response:
    """The response object as it stands at each point of the stream."""

    def __init__(self, plan: AnswerPlan, request: dict[str, Any]) -> None:
        self.plan = plan
        self.fields: dict[str, Any] = {
            "id": _id("resp"),
            "object": "response",
            "created_at": int(time.time()),
            "completed_at": None,
            "status": "in_progress",
            "error": None,
            "incomplete_details": None,
            "instructions": request.get("instructions"),
            "max_output_tokens": request.get("max_output_tokens"),
            "model": plan.model,
            "output": [],
            "parallel_tool_calls": request.get("parallel_tool_calls", True),
            "previous_response_id": request.get("previous_response_id"),
            "reasoning": {"effort": None, "summary": None, **(request.get("reasoning") or {})},
            "store": request.get("store", True),
            "temperature": request.get("temperature", 1.0),
            "text": {"format": {"type": "text"}, **(request.get("text") or {})},
            "tool_choice": request.get("tool_choice", "auto"),
            "tools": request.get("tools") or [],
            "top_p": request.get("top_p", 1.0),
            "truncation": "disabled",
            "usage": None,
            "metadata": request.get("metadata") or {},
            **_FIXED,
            **_ECHOED_SETTINGS,
            **{key: request[key] for key in _ECHOED_SETTINGS if request.get(key) is not None},
        }

    def ended(self, output: list[dict[str, Any]]) -> dict[str, Any]:
        finish = self.plan.choices[0].finish_reason if self.plan.choices else "stop"
        cut = finish == "length"
        return {
            **self.fields,
            "status": "incomplete" if cut else "completed",
            "completed_at": None if cut else int(time.time()),
            "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
            "output": output,
            "usage": _usage(self.plan),
        }


def response(plan: AnswerPlan, request: dict[str, Any], *, encrypted: bool) -> dict[str, Any]:
    """The plan as one whole ``response`` (the answer to a request that does not stream)."""
    items = _items(plan.choices[0], encrypted, _search_for(request))
    return _Response(plan, request).ended([item for item, _ in items])


class _Writer:
    """Numbered ``event:``/``data:`` frames."""

    def __init__(self) -> None:
        self.sequence = 0

    def __call__(self, kind: str, **fields: Any) -> bytes:
        event = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        return f"event: {kind}\ndata: {data}\n\n".encode()


def _opened(item: dict[str, Any]) -> dict[str, Any]:
    """An item as ``output_item.added`` shows it: nothing in it yet."""
    kind = item["type"]
    if kind == "reasoning":
        return {"id": item["id"], "type": "reasoning", "summary": []}
    if kind == "message":
        return {**item, "status": "in_progress", "content": []}
    if kind == "web_search_call":
        return {**item, "status": "in_progress"}
    return {**item, "status": "in_progress", "arguments": ""}


def _reasoning_frames(
    write: _Writer, at: dict[str, Any], item: dict[str, Any], pieces: tuple[str, ...]
) -> Iterator[tuple[bool, bytes]]:
    part: dict[str, Any] = {"type": "summary_text", "text": ""}
    summary = {**at, "summary_index": 0}
    yield False, write("response.reasoning_summary_part.added", **summary, part=part)
    for piece in pieces:
        yield True, write("response.reasoning_summary_text.delta", **summary, delta=piece)
    text = item["summary"][0]["text"]
    yield False, write("response.reasoning_summary_text.done", **summary, text=text)
    done = {"type": "summary_text", "text": text}
    yield False, write("response.reasoning_summary_part.done", **summary, part=done)


def _message_frames(
    write: _Writer, at: dict[str, Any], item: dict[str, Any], pieces: tuple[str, ...]
) -> Iterator[tuple[bool, bytes]]:
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
    content = {**at, "content_index": 0}
    yield False, write("response.content_part.added", **content, part=part)
    for piece in pieces:
        yield True, write("response.output_text.delta", **content, delta=piece, logprobs=[])
    whole = item["content"][0]
    for number, note in enumerate(whole["annotations"]):
        added = "response.output_text.annotation.added"
        yield False, write(added, **content, annotation_index=number, annotation=note)
    text = whole["text"]
    yield False, write("response.output_text.done", **content, text=text, logprobs=[])
    yield False, write("response.content_part.done", **content, part=whole)


def _item_frames(
    write: _Writer, index: int, item: dict[str, Any], pieces: tuple[str, ...]
) -> Iterator[tuple[bool, bytes]]:
    """One output item's events, opened to closed."""
    at = {"item_id": item["id"], "output_index": index}
    yield False, write("response.output_item.added", output_index=index, item=_opened(item))
    if item["type"] == "reasoning":
        yield from _reasoning_frames(write, at, item, pieces)
    elif item["type"] == "web_search_call":
        for status in ("in_progress", "searching", "completed"):
            yield False, write(f"response.web_search_call.{status}", **at)
    elif item["type"] == "message":
        yield from _message_frames(write, at, item, pieces)
    else:
        for piece in pieces:
            yield True, write("response.function_call_arguments.delta", **at, delta=piece)
        # openai 2.x types the event with the function's name (3.x dropped it): both read it.
        done = {"arguments": item["arguments"], "name": item["name"]}
        yield False, write("response.function_call_arguments.done", **at, **done)
    yield False, write("response.output_item.done", output_index=index, item=item)


def stream_frames(
    plan: AnswerPlan, request: dict[str, Any], *, encrypted: bool
) -> Iterator[tuple[bool, bytes]]:
    """(does this frame carry a token, its bytes), in the order the API sends them."""
    write, state = _Writer(), _Response(plan, request)
    yield False, write("response.created", response=state.fields)
    yield False, write("response.in_progress", response=state.fields)
    items = _items(plan.choices[0], encrypted, _search_for(request))
    for index, (item, pieces) in enumerate(items):
        yield from _item_frames(write, index, item, pieces)
    ended = state.ended([item for item, _ in items])
    kind = "response.incomplete" if ended["status"] == "incomplete" else "response.completed"
    yield False, write(kind, response=ended)


def error_frame(message: str, sequence_number: int = 0) -> bytes:
    """The ``error`` event a failing stream ends with, as the API sends it.

    Its fields are at the top, as OpenAI sends them. The Open Responses spec nests them under
    ``error``; that is not done here, because openai's clients then raise ``APIError`` in the
    middle of the stream instead of handing over the ``error`` event the API sends."""
    event = {
        "type": "error",
        "sequence_number": sequence_number,
        "code": "server_error",
        "message": message,
        "param": None,
    }
    return f"event: error\ndata: {json.dumps(event, separators=(',', ':'))}\n\n".encode()
