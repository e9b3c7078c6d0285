"""A Chatbot's settings, written once: what the constructor takes, ``copy()`` replaces, a saved
session keeps and a turn reads.

:class:`Settings` is frozen: a change is a new one (``dataclasses.replace``), so a turn reads
one consistent snapshot. Each field says in its metadata whether a saved session keeps it:
most do (under the field's name); the system prompt travels as the first message; and the
settings of this machine are never saved, each with the reason (``local``): what is shown
where, the tools (code, not data), the cache (a file here), and safe mode, which is the
reader's choice (a file from elsewhere must not turn it off). Where to connect, and with which
key, is no setting: it lives in the clients (:mod:`~chatnb.clients`) and never in a repr or a
file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, get_type_hints, overload

from pydantic import TypeAdapter, ValidationError

from .cache import Cache
from .errors import ArgumentError
from .exchange import DEFAULT_ANSWER_TIMEOUT_S, checked_answer_timeout
from .models import Overrides
from .options import checked_options, request_fields
from .pricing import Price
from .redaction import masked_options
from .schema import ToolCall
from .tokens import checked_encoding
from .tools import Toolbox, ToolLike
from .wire import API, checked_api
from .wire.responses import responses_fields

if TYPE_CHECKING:  # the views load at the first ask, not when a Chatbot is made
    from .display import DisplaySink

__all__ = [
    "CONNECTION",
    "DEFAULT_MAX_STEPS",
    "Confirm",
    "Setting",
    "Settings",
    "accepted_options",
    "read_saved",
]

#: Rounds of tool calls one ask runs at most, unless ``max_steps=`` says otherwise.
DEFAULT_MAX_STEPS = 10
#: ``confirm=``: ``True`` asks the person, or a function of the call says yes or no.
Confirm = bool | Callable[[ToolCall], bool | Awaitable[bool]]
#: What the constructor takes beside the settings: where to connect, and with which key.
CONNECTION = ("base_url", "api_key", "client", "async_client")

_IN_MESSAGES = {"saved_as": "the session's first message"}


def _local(reason: str) -> dict[str, str]:
    """The metadata of a setting of this machine, never saved: ``reason`` says why."""
    return {"local": reason}


@dataclass(frozen=True)
class Settings:
    """Everything a Chatbot is configured with (not where it connects, not its key)."""

    model: str = "gpt-4o-mini"
    system: str | None = field(default=None, metadata=_IN_MESSAGES)
    #: The caller's word on the model, where chatnb's tables are missing or wrong.
    context_window: int | None = None
    max_output_tokens: int | None = None
    encoding: str | None = None
    price: Price | None = None
    max_turns: int | None = None
    #: ``"chat"`` (Chat Completions) or ``"responses"`` (the Responses API).
    api: API = "chat"
    #: Request options sent with every ask (``temperature``, ...); the client options among
    #: them (``extra_headers``, ...) may carry credentials and are not saved.
    sampling: Mapping[str, Any] = field(default_factory=dict)
    answer_timeout: float | None = DEFAULT_ANSWER_TIMEOUT_S
    max_steps: int = DEFAULT_MAX_STEPS
    math: bool = True
    show_reasoning: bool = True
    safe: bool = field(
        default=True, metadata=_local("safe mode is the reader's choice, not the file's")
    )
    display: bool | DisplaySink = field(default=True, metadata=_local("a screen of this kernel"))
    output: Any = field(default=None, metadata=_local("a widget of this kernel"))
    #: Python functions (as :class:`~chatnb.tools.FunctionTool`) and declared definitions.
    tools: tuple[ToolLike, ...] = field(default=(), metadata=_local("tools are code, not data"))
    confirm: Confirm = field(default=False, metadata=_local("the reader's safeguard"))
    cache: str | Path | Cache | bool | None = field(
        default=None, metadata=_local("a file on this machine")
    )

    def __post_init__(self) -> None:
        # Normalized once here, so that replace() checks a changed setting as the
        # constructor does.
        object.__setattr__(self, "api", checked_api(self.api))
        # Functions are read once into tools (two of one name refused now, not at the first
        # ask), so a copy reuses them.
        box = Toolbox(self.tools)
        object.__setattr__(self, "tools", (*box.functions.values(), *box.declared, *box.builtin))
        if self.encoding is not None:
            checked_encoding(self.encoding)
        if self.max_turns is not None and (
            isinstance(self.max_turns, bool)
            or not isinstance(self.max_turns, int)
            or self.max_turns < 1
        ):
            raise ArgumentError(
                f"max_turns={self.max_turns!r}: keep at least 1 turn (or None: no limit)"
            )
        sampling = checked_options(
            self.sampling,
            also_known=field_names() | set(CONNECTION),
            accepted=accepted_options(self.api),
        )
        object.__setattr__(self, "sampling", sampling)
        object.__setattr__(self, "answer_timeout", checked_answer_timeout(self.answer_timeout))

    @cached_property
    def toolbox(self) -> Toolbox:
        """The tools as a turn runs them."""
        return Toolbox(self.tools)

    @property
    def overrides(self) -> Overrides:
        return Overrides(self.context_window, self.max_output_tokens, self.encoding, self.price)

    def replaced(self, **changes: Any) -> Settings:
        """These settings with ``changes``: settings by name, any other name a request option
        (added to ``sampling``)."""
        own = {k: v for k, v in changes.items() if k in field_names()}
        options = {k: v for k, v in changes.items() if k not in own}
        if options:
            own["sampling"] = {**own.get("sampling", self.sampling), **options}
        return dataclasses.replace(self, **own)

    def arguments(self) -> dict[str, Any]:
        """The settings as the constructor takes them (request options by name)."""
        given = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        sampling = given.pop("sampling")
        return {**given, **sampling}

    def saved(self) -> dict[str, Any]:
        """What a saved session keeps, as JSON values (never a client option)."""
        kept = {f.name: getattr(self, f.name) for f in saved_fields()}
        kept["sampling"] = request_fields(self.sampling)
        return TypeAdapter(dict[str, Any]).dump_python(kept, mode="json")  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.repr}
        shown["sampling"] = masked_options(self.sampling)
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


@cache
def field_names() -> frozenset[str]:
    """The settings' names."""
    return frozenset(f.name for f in dataclasses.fields(Settings))


def saved_fields() -> list[dataclasses.Field[Any]]:
    """The settings a saved session keeps under their own names."""
    return [f for f in dataclasses.fields(Settings) if not f.metadata]


@cache
def _adapter(name: str) -> TypeAdapter[Any]:
    from .display import DisplaySink  # named in an annotation; loaded only to read a file

    return TypeAdapter(get_type_hints(Settings, localns={"DisplaySink": DisplaySink})[name])


def read_saved(data: Mapping[str, Any]) -> dict[str, Any]:
    """The settings saved in ``data``, each checked against its type (a ``ValueError`` names
    the first that is not valid); a setting the file lacks keeps its default."""
    found: dict[str, Any] = {}
    for setting in saved_fields():
        if setting.name in data:
            try:
                found[setting.name] = _adapter(setting.name).validate_python(data[setting.name])
            except ValidationError as invalid:
                said = invalid.errors(include_url=False)[0]["msg"]
                raise ValueError(f"{setting.name}: {said}") from None
    return found


def accepted_options(api: str) -> frozenset[str]:
    """Option names the API takes beyond the Chat Completions ones (Responses: ``reasoning``,
    ``include``, ``previous_response_id``, ``instructions``, ``truncation``, ...)."""
    return responses_fields() if api == "responses" else frozenset()


T = TypeVar("T")


class Configured(Protocol):
    """An object with settings (the Chatbot)."""

    @property
    def settings(self) -> Settings: ...

    @settings.setter
    def settings(self, new: Settings) -> None: ...


class Setting(Generic[T]):
    """An attribute that reads one setting and, set, replaces it (``bot.display = False``)."""

    name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, configured: None, owner: type) -> Setting[T]: ...
    @overload
    def __get__(self, configured: Configured, owner: type) -> T: ...
    def __get__(self, configured: Configured | None, owner: type) -> Setting[T] | T:
        if configured is None:
            return self
        value: T = getattr(configured.settings, self.name)
        return value

    def __set__(self, configured: Configured, value: T) -> None:
        configured.settings = configured.settings.replaced(**{self.name: value})
