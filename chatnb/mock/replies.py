"""Where the mock's answers come from: echo, built-in answers, a fixed text, a script, a
Markdown sample, or code.

A script's entries may also be tool calls (:class:`ToolCall`, or a list of them for parallel
calls) and JSON documents (a ``dict``); :mod:`~chatnb.mock.answers` decides what a request
gets from the entry it drew.
"""

from __future__ import annotations

import functools
import itertools
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..schema import ChatCompletionRequest

__all__ = [
    "ANSWER",
    "ECHO",
    "MarkdownSample",
    "Reply",
    "ReplyItem",
    "ReplySource",
    "ToolCall",
    "markdown_sample",
]

#: The reply (or script entry) that answers from the request itself: the question repeated,
#: the tools offered called, the JSON schema asked for filled in, tool results reported.
ECHO = "echo"
#: The reply that answers like a model: a built-in Markdown answer on the question's topic
#: (:mod:`~chatnb.mock.canned`); tools and JSON schemas are answered as the echo does.
ANSWER = "answer"


class ToolCall(BaseModel):
    """A scripted tool call: ``ToolCall("get_weather", {"city": "Paris"})``.

    Without ``arguments``, they are generated from the tool's schema (valid against it).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    arguments: dict[str, Any] | None = None

    def __init__(self, name: str, arguments: dict[str, Any] | None = None) -> None:
        super().__init__(name=name, arguments=arguments)


@dataclass(frozen=True)
class MarkdownSample:
    """A deterministic Markdown answer of about ``length`` characters, like an LLM's:
    headings, paragraphs, lists, code fences, tables, quotes and links."""

    length: int = 2_000
    seed: int = 0


#: What one request gets: a text, a JSON document, a tool call, or parallel tool calls.
ReplyItem = str | dict[str, Any] | ToolCall | list[ToolCall]
Reply = (
    str
    | dict[str, Any]
    | ToolCall
    | Sequence[ReplyItem | MarkdownSample]
    | MarkdownSample
    | Callable[[ChatCompletionRequest], ReplyItem]
)

_TOPICS = ["caching", "retries", "tokenizers", "streaming", "context windows", "batching"]
_WORDS = [
    "the",
    "model",
    "streams",
    "each",
    "token",
    "as",
    "soon",
    "as",
    "it",
    "is",
    "sampled",
    "so",
    "the",
    "reader",
    "sees",
    "progress",
    "early",
    "while",
    "the",
    "server",
    "keeps",
    "the",
    "connection",
    "open",
    "and",
    "the",
    "client",
    "renders",
    "markdown",
    "incrementally",
    "without",
    "waiting",
    "for",
    "the",
    "whole",
    "answer",
]


def _sentence(rng: random.Random) -> str:
    words = rng.sample(_WORDS, rng.randint(8, 16))
    return " ".join(words).capitalize() + "."


def _blocks(rng: random.Random) -> list[str]:
    topic = rng.choice(_TOPICS)
    name = topic.replace(" ", "_")
    return [
        f"## {topic.capitalize()}",
        " ".join(_sentence(rng) for _ in range(3))
        + f" See [the guide](https://example.com/{name}).",
        "\n".join(f"- **{w}**: {_sentence(rng)}" for w in rng.sample(_WORDS, 3)),
        f"```python\ndef {name}(items: list[str]) -> int:\n"
        f"    # {_sentence(rng)}\n    return sum(len(item) for item in items)\n```",
        "| setting | value | note |\n|---|---:|---|\n"
        + "\n".join(
            f"| `{w}` | {rng.randint(1, 999)} | {_sentence(rng)} |" for w in rng.sample(_WORDS, 3)
        ),
        f"> {_sentence(rng)}",
        "\n".join(f"{i}. {_sentence(rng)}" for i in range(1, 4)),
    ]


@functools.lru_cache(maxsize=32)
def markdown_sample(length: int = 2_000, seed: int = 0) -> str:
    """The text of :class:`MarkdownSample`: whole blocks until ``length`` characters."""
    rng = random.Random(seed)
    blocks = ["# A sample answer"]
    size = len(blocks[0])
    while size < length:
        for block in _blocks(rng):
            blocks.append(block)
            size += len(block) + 2
            if size >= length:
                break
    return "\n\n".join(blocks) + "\n"


class ReplySource:
    """Turns a :data:`Reply` into one answer per request."""

    def __init__(self, reply: Reply = "echo") -> None:
        self._reply = reply
        self._script = None
        self._lock = threading.Lock()
        if not isinstance(reply, str | dict | MarkdownSample | ToolCall) and not callable(reply):
            if not reply:
                raise ValueError("a scripted reply needs at least one answer")
            self._script = itertools.cycle(list(reply))

    def answer(self, request: ChatCompletionRequest) -> ReplyItem:
        reply = self._reply
        if self._script is not None:
            with self._lock:
                item: Any = next(self._script)
            if isinstance(item, MarkdownSample):
                return markdown_sample(item.length, item.seed)
            return item if isinstance(item, str | dict | ToolCall | list) else str(item)
        if isinstance(reply, MarkdownSample):
            return markdown_sample(reply.length, reply.seed)
        if isinstance(reply, ToolCall | dict):
            return reply
        if callable(reply):
            made = reply(request)
            return made if isinstance(made, dict | ToolCall | list) else str(made)
        return str(reply)  # ECHO included: the answer is made from the request

    def __repr__(self) -> str:
        kind = "script" if self._script is not None else repr(self._reply)[:40]
        return f"ReplySource({kind})"


def last_user_text(request: ChatCompletionRequest) -> str:
    for message in reversed(request.messages):
        if message.role == "user":
            content = message.content
            if isinstance(content, str):
                return content
            return "".join(str(p.get("text", "")) for p in content or [] if p.get("type") == "text")
    return ""
