"""What kind of answer a request gets: text, a JSON document, or tool calls, as the API decides.

- **Tool calls** when the script says so (:class:`~chatnb.mock.replies.ToolCall`, if the
  request offers tools: otherwise the echo answers), when
  ``tool_choice`` forces one (``"required"`` or a named function), or, with the default echo
  reply, when the request offers ``tools`` and the conversation has no tool results yet. Which
  tool: the one ``tool_choice`` names, else every tool the question mentions by name (parallel
  calls, unless ``parallel_tool_calls`` is false), else the first. Arguments not scripted are
  generated from the tool's schema (:func:`~chatnb.mock.instances.instance`).
- **JSON** for ``response_format``: a document valid against its ``json_schema``, or for
  ``json_object`` an object holding the echo; a scripted ``dict`` is sent as JSON.
- **Text** otherwise: the question repeated (``"echo"``) or a built-in answer on its topic
  (``"answer"``, :mod:`~chatnb.mock.canned`); after tool results, what each tool returned.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..schema import ChatCompletionRequest, ChatMessage, Tool
from .canned import canned_answer
from .instances import instance
from .replies import ANSWER, ECHO, ReplyItem, ToolCall, last_user_text

__all__ = ["PlannedCall", "decide"]


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """A tool call to stream: the function's name and its JSON arguments."""

    name: str
    arguments: str


def _compact(value: Any) -> str:
    """JSON as the API writes arguments: no spaces, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _tool(request: ChatCompletionRequest, name: str) -> Tool | None:
    return next((t for t in request.tools or [] if t.function.name == name), None)


def _arguments(request: ChatCompletionRequest, name: str, given: dict[str, Any] | None) -> str:
    if given is not None:
        return _compact(given)
    tool = _tool(request, name)
    schema = (tool.function.parameters if tool else None) or {"type": "object"}
    return _compact(instance(schema))


def _mentioned(request: ChatCompletionRequest) -> list[str]:
    """The tools whose name (a word of it, 4 letters or more) the question mentions."""
    question = last_user_text(request).lower()
    names = []
    for tool in request.tools or []:
        words = [w for w in re.split(r"[_\-\s]+", tool.function.name.lower()) if len(w) >= 4]
        if any(re.search(rf"\b{re.escape(word)}", question) for word in words):
            names.append(tool.function.name)
    return names


def _chosen(request: ChatCompletionRequest) -> list[str]:
    choice = request.tool_choice
    if isinstance(choice, dict):
        return [str(choice.get("function", {}).get("name", ""))]
    tools = request.tools or []
    mentioned = _mentioned(request) or [tools[0].function.name]
    return mentioned if request.parallel_tool_calls is not False else mentioned[:1]


def _answered_tools(messages: list[ChatMessage]) -> bool:
    return bool(messages) and messages[-1].role == "tool"


def decide(request: ChatCompletionRequest, item: ReplyItem) -> str | list[PlannedCall]:
    """The answer to ``request``, given the entry of the reply script it drew."""
    tools, choice = request.tools, request.tool_choice
    if isinstance(item, ToolCall):
        item = [item]
    if isinstance(item, list):
        if tools and choice != "none":
            return [PlannedCall(c.name, _arguments(request, c.name, c.arguments)) for c in item]
        item = ECHO  # the API calls only tools it was offered
    forced = bool(tools) and (choice == "required" or isinstance(choice, dict))
    offered = bool(tools) and choice != "none" and not _answered_tools(request.messages)
    echoes = item in (ECHO, ANSWER)  # both answer tools and schemas from the request
    if forced or (echoes and offered):
        return [PlannedCall(name, _arguments(request, name, None)) for name in _chosen(request)]
    if isinstance(item, dict):
        return _compact(item)
    if echoes:
        return _echo(request, canned=item == ANSWER)
    return item


def _echo(request: ChatCompletionRequest, *, canned: bool = False) -> str:
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_schema":
        schema = (fmt.json_schema or {}).get("schema") or {"type": "object"}
        return _compact(instance(schema))
    if fmt is not None and fmt.type == "json_object":
        return _compact({"answer": last_user_text(request)})
    if _answered_tools(request.messages):
        return _tool_report(request.messages)
    question = last_user_text(request)
    return canned_answer(question) if canned else question


def _tool_report(messages: list[ChatMessage]) -> str:
    """What the tools of the last round returned, one line each."""
    calls: dict[str, tuple[str, str]] = {}
    for message in messages:
        for call in message.tool_calls or []:
            calls[call.id] = (call.function.name, call.function.arguments)
    lines = []
    for message in reversed(messages):
        if message.role != "tool":
            break
        name, arguments = calls.get(message.tool_call_id or "", ("a tool", ""))
        content = message.content if isinstance(message.content, str) else _compact(message.content)
        lines.append(f"- `{name}({arguments})` returned: {content}")
    return "The tools answered:\n\n" + "\n".join(reversed(lines))
