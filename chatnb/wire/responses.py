"""The Responses API's request, both ways: a Chatbot's request as ``POST /v1/responses``
takes it, and (for the mock) a Responses request read back as the conversation it carries.

The Chatbot keeps its History and options in one shape (Chat Completions messages and option
names), so the token budget, the tool loop and the transaction rules are the same for both
APIs; the translation happens here, once, at the wire:

- messages -> ``input`` items: system/developer/user/assistant messages as messages, an
  assistant's ``tool_calls`` as ``function_call`` items, ``tool`` messages as
  ``function_call_output`` items, and the reasoning items an earlier answer kept (encrypted
  when ``store=False``) sent back before the answer they led to;
- ``max_completion_tokens``/``max_tokens`` -> ``max_output_tokens``; ``response_format`` ->
  ``text.format``; ``reasoning_effort`` -> ``reasoning.effort``; ``verbosity`` ->
  ``text.verbosity``; function tools flattened (``{"type": "function", "name": ...}``);
- ``store`` is ``False`` unless given, and then a reasoning model's reasoning comes back
  encrypted (``include=["reasoning.encrypted_content"]``), so a tool loop keeps it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import Field

from ..options import CLIENT_OPTIONS
from ..schema import WireModel
from .responses_events import ResponsesReader

__all__ = [
    "ENCRYPTED_REASONING",
    "ResponsesRequest",
    "ResponsesWire",
    "chat_fields",
    "chat_request_of",
    "input_items",
    "is_reasoning_model",
    "messages_of",
    "responses_fields",
    "responses_request",
]

ENCRYPTED_REASONING = "reasoning.encrypted_content"
#: Chat Completions options with another name or place in the Responses API.
_TRANSLATED = frozenset(
    {
        "messages",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "tools",
        "tool_choice",
        "response_format",
        "reasoning_effort",
        "verbosity",
    }
)
_REASONING_FAMILIES = ("o1", "o3", "o4", "gpt-5", "codex")


@cache
def responses_fields() -> frozenset[str]:
    """The request fields of ``responses.create`` in the installed openai library."""
    from openai.types.responses import response_create_params

    return frozenset(response_create_params.ResponseCreateParamsBase.__annotations__) | {"stream"}


def chat_fields() -> frozenset[str]:
    """The Chat Completions options a Responses request takes under another name."""
    return _TRANSLATED


def is_reasoning_model(model: str) -> bool:
    """OpenAI's reasoning models (o-series, gpt-5): those whose reasoning can come back."""
    name = model.rsplit("/", 1)[-1].lower()
    return name.startswith(_REASONING_FAMILIES)


# --- Chatbot -> wire ----------------------------------------------------------------------


def _parts(content: Any) -> Any:
    """Chat content parts as input parts (text, images); a string stays a string."""
    if not isinstance(content, list):
        return content
    parts = []
    for part in content:
        kind = part.get("type")
        if kind == "text":
            parts.append({"type": "input_text", "text": part.get("text", "")})
        elif kind == "image_url":
            image = part.get("image_url") or {}
            url = image.get("url") if isinstance(image, dict) else image
            detail = image.get("detail", "auto") if isinstance(image, dict) else "auto"
            parts.append({"type": "input_image", "image_url": url, "detail": detail})
        else:
            parts.append(part)  # already a Responses part (input_file, ...)
    return parts


def _text_of(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content or ""


def _assistant_items(message: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = list(message.get("reasoning_items") or [])
    text = _text_of(message.get("content")) or message.get("refusal") or ""
    if text:
        items.append({"role": "assistant", "content": text})
    for call in message.get("tool_calls") or []:
        function = call["function"]
        items.append(
            {
                "type": "function_call",
                "call_id": call["id"],
                "name": function["name"],
                "arguments": function["arguments"],
            }
        )
    return items


def input_items(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A conversation's messages as the ``input`` of a Responses request."""
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message["role"]
        if role == "assistant":
            items += _assistant_items(message)
        elif role == "tool":
            content = message.get("content")
            output = content if isinstance(content, str) else json.dumps(content)
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message["tool_call_id"],
                    "output": output,
                }
            )
        else:
            items.append({"role": role, "content": _parts(message.get("content"))})
    return items


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A Chat Completions function tool flattened; a built-in tool passes as it is."""
    if tool.get("type") != "function" or "function" not in tool:
        return tool
    return {"type": "function", **tool["function"]}


def _tool_choice(choice: Any) -> Any:
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return {"type": "function", "name": choice["function"].get("name")}
    return choice


def _text_format(response_format: dict[str, Any]) -> dict[str, Any] | None:
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        return {"type": "json_schema", **spec}
    return {"type": kind} if kind in ("json_object", "text") else None


def _translated(name: str, value: Any, out: dict[str, Any]) -> None:
    """Put one Chat Completions option where the Responses API takes it."""
    if name == "messages":
        out["input"] = input_items(value)
    elif name in ("max_tokens", "max_completion_tokens"):
        out["max_output_tokens"] = value
    elif name == "tools":
        out["tools"] = [_tool(tool) for tool in value]
    elif name == "tool_choice":
        out["tool_choice"] = _tool_choice(value)
    elif name == "response_format":
        fmt = _text_format(value)
        if fmt is not None:
            out["text"] = {**out.get("text", {}), "format": fmt}
    elif name == "reasoning_effort":
        out["reasoning"] = {"effort": value, **out.get("reasoning", {})}
    elif name == "verbosity":
        out["text"] = {**out.get("text", {}), "verbosity": value}


def responses_request(request: dict[str, Any]) -> dict[str, Any]:
    """A Chatbot's request (Chat Completions names) as ``responses.create`` takes it.

    Raises ``TypeError`` for an option the Responses API has no place for (``n``, ``stop``,
    ``logprobs``, ...), in plain words, before anything is sent."""
    out: dict[str, Any] = {}
    known = responses_fields() | CLIENT_OPTIONS
    for name, value in request.items():
        if name in _TRANSLATED:
            _translated(name, value, out)
        elif name in known:
            if isinstance(value, dict) and isinstance(out.get(name), dict):
                value = {**out[name], **value}  # reasoning={...} with reasoning_effort=
            out[name] = value
        else:
            raise TypeError(
                f"{name!r} is a Chat Completions option the Responses API does not take. "
                "Leave it out with api='responses' (or send it in extra_body={...} if your "
                "server takes it)."
            )
    out.setdefault("store", False)
    reasoning = "reasoning" in out or is_reasoning_model(str(out.get("model", "")))
    if out["store"] is False and reasoning:
        include = list(out.get("include") or [])
        out["include"] = (
            include if ENCRYPTED_REASONING in include else [*include, ENCRYPTED_REASONING]
        )
    return out


class ResponsesWire:
    """How an exchange speaks the Responses API."""

    name = "responses"
    end_marker = "response.completed"

    @staticmethod
    def reader() -> ResponsesReader:
        return ResponsesReader()

    @staticmethod
    def request(request: dict[str, Any]) -> dict[str, Any]:
        return responses_request(request)

    @staticmethod
    def create(client: Any) -> Any:
        return client.responses.with_streaming_response.create


# --- wire -> conversation (the mock) ------------------------------------------------------


class ResponsesRequest(WireModel):
    """The body of ``POST /v1/responses`` as the mock reads it, ranges as the API enforces."""

    model: Annotated[str, Field(min_length=1)]
    input: str | list[dict[str, Any]] = ""
    instructions: str | None = None
    stream: bool | None = None
    max_output_tokens: Annotated[int, Field(ge=16)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    text: dict[str, Any] | None = None
    reasoning: dict[str, Any] | None = None
    store: bool | None = None
    include: list[str] | None = None
    previous_response_id: str | None = None
    metadata: dict[str, str] | None = None


def _content_of(content: Any) -> Any:
    """Input parts back as chat content parts (or the string they hold)."""
    if not isinstance(content, list):
        return content
    parts: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text"):
            parts.append({"type": "text", "text": part.get("text", "")})
        elif kind == "refusal":
            parts.append({"type": "text", "text": part.get("refusal", "")})
        elif kind == "input_image":
            image = {"url": part.get("image_url"), "detail": part.get("detail", "auto")}
            parts.append({"type": "image_url", "image_url": image})
        else:
            raise ValueError(f"the mock cannot read input content of type {kind!r}")
    return parts


def _call(item: dict[str, Any], messages: list[dict[str, Any]]) -> None:
    """A function_call item joins the assistant message before it, or starts one."""
    call = {
        "id": str(item.get("call_id", "")),
        "type": "function",
        "function": {
            "name": str(item.get("name", "")),
            "arguments": str(item.get("arguments", "")),
        },
    }
    last = messages[-1] if messages else None
    if last is not None and last["role"] == "assistant":
        last["tool_calls"] = [*(last.get("tool_calls") or []), call]
    else:
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})


def messages_of(
    request: ResponsesRequest, earlier: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """The conversation a Responses request carries, as Chat Completions messages
    (``earlier``: what ``previous_response_id`` stands for). Raises ``ValueError`` for an
    input item the mock cannot read."""
    messages: list[dict[str, Any]] = []
    if request.instructions:
        messages.append({"role": "system", "content": request.instructions})
    messages += [dict(m) for m in earlier]
    if isinstance(request.input, str):
        return [*messages, {"role": "user", "content": request.input}]
    for item in request.input:
        kind = item.get("type", "message")
        if kind == "message":
            content = _content_of(item.get("content"))
            if item.get("role") == "assistant" and isinstance(content, list):
                content = _text_of(content)
            messages.append({"role": item.get("role"), "content": content})
        elif kind == "function_call":
            _call(item, messages)
        elif kind == "function_call_output":
            output = item.get("output")
            text = output if isinstance(output, str) else json.dumps(output)
            messages.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": text})
        elif kind != "reasoning":  # reasoning is the model's own: the mock reads past it
            raise ValueError(f"the mock cannot read input items of type {kind!r}")
    return messages


def _chat_tool(tool: dict[str, Any]) -> dict[str, Any] | None:
    """A flat function tool as Chat Completions nests it; built-in tools have no such form."""
    if tool.get("type") != "function":
        return None
    function = {k: v for k, v in tool.items() if k != "type"}
    return {"type": "function", "function": function}


def chat_request_of(request: ResponsesRequest, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The same request in Chat Completions terms (what the mock's engine answers)."""
    chat: dict[str, Any] = {"model": request.model, "messages": messages, "stream": request.stream}
    tools = [t for t in map(_chat_tool, request.tools or []) if t is not None]
    if tools:
        chat["tools"] = tools
    choice = request.tool_choice
    if isinstance(choice, dict) and choice.get("type") == "function":
        choice = {"type": "function", "function": {"name": choice.get("name")}}
    fmt = (request.text or {}).get("format") or {}
    if fmt.get("type") == "json_schema":
        spec = {k: v for k, v in fmt.items() if k != "type"}
        chat["response_format"] = {"type": "json_schema", "json_schema": spec}
    elif fmt.get("type") == "json_object":
        chat["response_format"] = {"type": "json_object"}
    fields = {
        "tool_choice": choice if tools else None,
        "parallel_tool_calls": request.parallel_tool_calls,
        "max_completion_tokens": request.max_output_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "reasoning_effort": (request.reasoning or {}).get("effort"),
        "mock": (request.model_extra or {}).get("mock"),
    }
    return {**chat, **{k: v for k, v in fields.items() if v is not None}}
