"""Python functions as tools: their JSON schema from the signature, their calls validated.

The schema of a function's arguments is pydantic's (``TypeAdapter(function)``: type hints,
defaults, ``Annotated[..., Field(description=...)]``), made strict the way the openai client
makes it for ``pydantic_function_tool`` when the model supports strict mode. A call's
arguments are validated by ``validate_call`` before the function runs. Whatever goes wrong
(arguments that are not JSON, arguments that do not validate, an exception inside the
function, a tool the model made up) becomes the tool's result in plain words, so the model
can correct itself and the loop goes on; nothing here raises into the cell.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic_core
from pydantic import BaseModel, TypeAdapter, ValidationError, validate_call

from .errors import ArgumentError, shorten
from .schema import Tool, ToolCall

__all__ = ["MAX_NESTING", "FunctionTool", "ToolResult", "Toolbox", "too_deep", "tool"]

#: Characters of a validation error or traceback line sent back to the model.
_ERROR_CHARS = 2_000
#: Characters of a name the request did not offer, quoted back to the model (the API allows 64).
_NAME_CHARS = 80
#: Arrays and objects nested deeper than this in a call's arguments are refused as bad
#: arguments: Python's JSON parser and pydantic recurse once per level, and a model (or a
#: hostile server) can send ``[[[[...`` far past the interpreter's recursion limit.
MAX_NESTING = 100
# A JSON string (escapes included): brackets inside strings do not nest.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class _Raised(Exception):
    """An exception from inside a tool, kept apart from the validation of its arguments."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _guarded(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with the same signature, whose own exceptions come out as :class:`_Raised`
    (so that ``validate_call`` errors about the arguments are told apart)."""
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def guarded_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await function(*args, **kwargs)
            except Exception as error:
                raise _Raised(error) from error

        return guarded_async

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception as error:
            raise _Raised(error) from error

    return guarded


def too_deep(text: str) -> bool:
    """Whether arrays and objects nest more than :data:`MAX_NESTING` levels in ``text``
    (JSON, perhaps malformed): one linear pass, no recursion, stopping at the first level
    too deep, so that it can be checked before anything parses the text."""
    depth = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth = depth + 1 if match.group() in "[{" else max(0, depth - 1)
        if depth > MAX_NESTING:
            return True
    return False


def as_text(value: Any) -> str:
    """A tool's return value as the text the model reads: strings as they are, the rest JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return pydantic_core.to_json(value, fallback=str).decode()


@dataclass(frozen=True)
class ToolResult:
    """What one call of a tool gave back to the model."""

    call_id: str
    name: str
    arguments: str
    #: The text sent to the model as the ``tool`` message.
    content: str
    #: False when the call failed (bad arguments, an exception, an unknown tool, not run).
    ok: bool = True
    duration_s: float = 0.0
    #: The whole result when ``content`` had to be cut to fit the context window
    #: (:mod:`chatnb.tool_output`); ``None`` when the model got all of it.
    full_content: str | None = None

    @property
    def text(self) -> str:
        """The whole result, as the tool gave it (redacted when it was kept by a Chatbot)."""
        return self.content if self.full_content is None else self.full_content

    def message(self) -> dict[str, Any]:
        return {"role": "tool", "tool_call_id": self.call_id, "content": self.content}


@dataclass(frozen=True)
class FunctionTool:
    """A Python function (sync or async) offered to the model as a tool."""

    function: Callable[..., Any]
    name: str
    description: str | None
    #: The JSON schema of the arguments, as pydantic writes it.
    parameters: dict[str, Any]
    #: ``None``: strict when the model supports it (see :meth:`Toolbox.definitions`).
    strict: bool | None = None

    @functools.cached_property
    def _validated(self) -> Callable[..., Any]:
        return validate_call(_guarded(self.function))

    @classmethod
    def of(
        cls,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool | None = None,
    ) -> FunctionTool:
        name = name or function.__name__
        return cls(
            function,
            name,
            description if description is not None else inspect.getdoc(function),
            TypeAdapter(function).json_schema(),  # type: ignore[arg-type]  # a function's arguments
            strict,
        )

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.function)

    def definition(self, strict: bool) -> dict[str, Any]:
        """The Chat Completions tool definition (strict mode: openai's own strict schema)."""
        strict = self.strict if self.strict is not None else strict
        parameters = self.parameters
        if strict:
            from .openai_private import strict_json_schema

            parameters = strict_json_schema(TypeAdapter(self.function))  # type: ignore[arg-type]
        function: dict[str, Any] = {"name": self.name, "parameters": parameters}
        if self.description:
            function["description"] = self.description
        if strict:
            function["strict"] = True
        return {"type": "function", "function": function}

    def _arguments(self, arguments: str) -> dict[str, Any] | str:
        """The parsed arguments, or why they cannot be used."""
        if too_deep(arguments):
            return (
                f"Error: the arguments nest more than {MAX_NESTING} levels deep, more than "
                "chatnb accepts. Send a flatter JSON object."
            )
        try:
            parsed = json.loads(arguments or "{}")
        except (ValueError, RecursionError) as error:
            return f"Error: the arguments are not valid JSON ({error}). Send a JSON object."[
                :_ERROR_CHARS
            ]
        if not isinstance(parsed, dict):
            return "Error: the arguments must be a JSON object of named parameters."
        return parsed

    def _failure(self, error: BaseException) -> str:
        if isinstance(error, _Raised):
            inner = error.error
            return f"Error: {self.name} raised {type(inner).__name__}: {inner}"[:_ERROR_CHARS]
        assert isinstance(error, ValidationError)
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}"
            for e in error.errors(include_url=False)
        )
        return f"Error: invalid arguments for {self.name}: {problems}. Fix them and call again."[
            :_ERROR_CHARS
        ]

    def run(self, call_id: str, arguments: str) -> ToolResult:
        """Validate and run a call (an async function is run to completion here)."""
        if self.is_async:
            result: ToolResult = _run_coroutine(self.arun(call_id, arguments))
            return result
        return _without_waiting(self.arun(call_id, arguments))

    async def arun(self, call_id: str, arguments: str) -> ToolResult:
        """Validate and run a call; an async function is awaited, a sync one called."""
        started = time.perf_counter()
        parsed = self._arguments(arguments)
        if isinstance(parsed, str):
            return ToolResult(call_id, self.name, arguments, parsed, False)
        try:
            value = self._validated(**parsed)
            if inspect.isawaitable(value):
                value = await value
        except (ValidationError, _Raised) as error:
            content, ok = self._failure(error), False
        else:
            content, ok = self._text(value)
        return ToolResult(call_id, self.name, arguments, content, ok, time.perf_counter() - started)

    def _text(self, value: Any) -> tuple[str, bool]:
        """The returned value as text; one that cannot be written (nested too deep, say) is
        an error for the model, not for the cell."""
        try:
            return as_text(value), True
        except (ValueError, TypeError, RecursionError) as error:
            failure = (
                f"Error: the value {self.name} returned could not be written as JSON ({error})."
            )
            return failure[:_ERROR_CHARS], False


def _without_waiting(coroutine: Coroutine[Any, Any, ToolResult]) -> ToolResult:
    """The result of a coroutine that never waits (the call of a sync tool), run here."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        result: ToolResult = finished.value
        return result
    coroutine.close()
    raise RuntimeError("a sync tool's call waited on something")


def _run_coroutine(awaitable: Any) -> Any:
    """Run an async tool from sync code, also inside a notebook whose loop is running."""
    import asyncio
    import threading

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(awaitable)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(awaitable)
        except BaseException as error:
            box["error"] = error

    thread = threading.Thread(target=target, name="chatnb-async-tool", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def tool(
    function: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool | None = None,
) -> Any:
    """Describe a function as a tool, to rename it, describe it, or set strict mode::

        @tool(strict=False)
        def search(query: str, limit: int = 5) -> list[str]: ...

    Plain functions passed as ``tools=[...]`` need no decorator.

    Args:
        function: The function (when used as ``@tool`` or ``tool(f)``).
        name: The tool's name for the model (default: the function's).
        description: What the tool does, for the model (default: the function's docstring).
        strict: Strict JSON schema for the arguments (``None``: when the model supports it).

    Returns:
        A :class:`FunctionTool`, or a decorator that makes one.
    """

    def wrap(function: Callable[..., Any]) -> FunctionTool:
        return FunctionTool.of(function, name=name, description=description, strict=strict)

    return wrap(function) if function is not None else wrap


ToolLike = Callable[..., Any] | FunctionTool | Mapping[str, Any]


class Toolbox:
    """The tools of a conversation: Python functions, plain function definitions (which the
    model may call but chatnb cannot run), and the server's built-in tools (``{"type":
    "web_search"}``: the Responses API runs them itself and reports their status)."""

    def __init__(self, tools: Iterable[ToolLike] = ()) -> None:
        self.functions: dict[str, FunctionTool] = {}
        self.declared: list[dict[str, Any]] = []
        self.builtin: list[dict[str, Any]] = []
        for item in tools:
            if isinstance(item, Mapping):
                self._add_definition(item)
                continue
            function = item if isinstance(item, FunctionTool) else FunctionTool.of(item)
            if function.name in self.functions:
                raise ValueError(f"two tools are named {function.name!r}")
            self.functions[function.name] = function

    def _add_definition(self, item: Mapping[str, Any]) -> None:
        kind = item.get("type")
        if isinstance(kind, str) and kind != "function":
            self.builtin.append(dict(item))  # the server's own tool: passed as it is
            return
        try:
            definition = Tool.model_validate(dict(item)).model_dump(exclude_none=True)
        except ValidationError:
            raise ArgumentError(
                f"tools=[{shorten(repr(dict(item)), 120)}]: a tool definition is "
                '{"type": "function", "function": {"name": ..., "parameters": {...}}}, or a '
                'built-in tool of the Responses API such as {"type": "web_search"}; or pass '
                "the Python function itself."
            ) from None
        self.declared.append(definition)

    def __bool__(self) -> bool:
        return bool(self.functions or self.declared or self.builtin)

    def __len__(self) -> int:
        return len(self.functions) + len(self.declared) + len(self.builtin)

    def definitions(self, *, strict: bool) -> list[dict[str, Any]]:
        """The request's ``tools``; ``strict``: whether the model supports strict schemas."""
        functions = [f.definition(strict) for f in self.functions.values()]
        return functions + self.declared + self.builtin

    def declares(self, call: ToolCall) -> bool:
        """Whether ``call`` is for a tool declared without a Python function."""
        return any(d["function"]["name"] == call.function.name for d in self.declared)

    def runnable(self, call: ToolCall) -> FunctionTool | None:
        return self.functions.get(call.function.name)

    def unknown(self, call: ToolCall) -> ToolResult:
        """The result of a call chatnb cannot run: a made-up tool, or one only declared. A
        name the request did not offer (the server's stream is not checked against the
        request, and may hold any text) goes back to the model as an error, shortened."""
        name = call.function.name
        if self.declares(call):
            content = f"Not run: {name} is declared without a Python function in chatnb."
        else:
            known = ", ".join(self.functions) or "none"
            shown = name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1] + "…"
            content = f"Error: there is no tool named {shown!r}. The tools are: {known}."
        return ToolResult(call.id, name, call.function.arguments, content, False)

    def run(self, call: ToolCall) -> ToolResult:
        function = self.runnable(call)
        if function is None:
            return self.unknown(call)
        return function.run(call.id, call.function.arguments)

    async def arun(self, call: ToolCall) -> ToolResult:
        function = self.runnable(call)
        if function is None:
            return self.unknown(call)
        return await function.arun(call.id, call.function.arguments)
