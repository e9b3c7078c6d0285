"""The Chatbot: ask in a cell, watch the answer stream in, and lose nothing when things fail.

The Chatbot keeps the settings and the conversation; each ask is one
:class:`~chatnb.exchange.Exchange`, sent through the openai client's own transport (auth,
base URL, retries, timeouts). The rooms around it each do one job: :mod:`~chatnb.clients`
(the sync and async clients), :mod:`~chatnb.models` (limits, encoding, price),
:mod:`~chatnb.options` (which request options are accepted), :mod:`~chatnb.display` (the
views), :mod:`~chatnb.session` (save, load, transcript).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import Cache
from .clients import Clients
from .errors import ChatnbError, warn_once
from .exchange import DEFAULT_ANSWER_TIMEOUT_S, Answer
from .history import History
from .models import ModelProfile
from .options import checked_options
from .pricing import MOCK_PRICE, Price
from .redaction import redact_url
from .schema import ChatMessage
from .session import Session, transcript
from .settings import (
    CONNECTION,
    DEFAULT_MAX_STEPS,
    Confirm,
    Setting,
    Settings,
    accepted_options,
    field_names,
)
from .tokens import ModelLimits
from .tools import Toolbox, ToolLike
from .turn import Turn
from .usage import ChatUsage, TurnUsage
from .wire import API, checked_api

if TYPE_CHECKING:
    import openai

    from .display import DisplaySink

__all__ = ["Answer", "ChatUsage", "Chatbot", "TurnUsage"]


class Chatbot:
    """A conversation with an OpenAI-compatible chat model, streamed into the notebook.

    >>> bot = Chatbot.mock()                       # no key, no network
    >>> bot = Chatbot("gpt-4o", system="Be brief.")  # OPENAI_API_KEY from the environment
    >>> bot.ask("What is a context window?")       # doctest: +SKIP

    ``client`` / ``async_client`` take configured openai clients (Azure, a proxy, retries); a
    missing one is built as the other's twin (same key, URL, headers, query, timeout,
    retries). Otherwise both come from ``base_url`` / ``api_key`` or ``OPENAI_BASE_URL`` /
    ``OPENAI_API_KEY``, as the openai library reads them.

    Args:
        model: The model's name as the server knows it (an Azure deployment's name); it also
            picks the context window, tokenizer and price chatnb knows for it.
        system: The system prompt, kept at the start of every request.
        base_url: The API's root, ending in ``/v1`` on most servers (default:
            ``OPENAI_BASE_URL``, else OpenAI).
        api_key: The key sent to the server (default: ``OPENAI_API_KEY``); never shown in a
            repr, log, error or saved file.
        client: A configured ``openai.OpenAI`` (or ``AzureOpenAI``) to send through, instead
            of ``base_url`` / ``api_key``.
        async_client: Its ``openai.AsyncOpenAI`` counterpart, for :meth:`aask`, ``compare``
            and experiments; built as the twin of ``client`` when missing (pass both for Azure
            or an ``http_client`` of your own).
        context_window: The model's context window in tokens, for a model chatnb does not
            know or to override what it knows.
        max_output_tokens: Tokens kept free for the answer when the history is fitted.
        max_turns: Keep at most this many turns (question and answer) in the history
            (``None``: as many as fit the context window).
        display: ``True`` shows answers where the code runs (the notebook, else the
            terminal), ``False`` nowhere, or a sink of :mod:`chatnb.display`.
        safe: Safe mode: HTML tags, images and script links in the answer are shown as text
            outside code (``False``: the Markdown as the model wrote it).
        math: Rewrite math so that the notebook renders it as the model meant it
            (``\\[ .. \\]`` delimiters, currency ``$``).
        output: An ``ipywidgets.Output`` to show every answer in, instead of the cell.
        show_reasoning: Show a thinking model's reasoning above the answer (live, then folded).
        cache: Record answers in a SQLite file and replay them: a path, a
            :class:`~chatnb.cache.Cache`, or ``False`` for none (default: the file
            ``CHATNB_CACHE`` names, if any).
        price: The :class:`~chatnb.pricing.Price` to bill answers at, for a model chatnb has
            no list price for (or to override it).
        encoding: The tokenizer's encoding (``"o200k_base"``, ``"cl100k_base"``) for a model
            chatnb does not know.
        tools: What the model may call: Python functions (or
            :class:`~chatnb.tools.FunctionTool` objects), which chatnb runs, sending back
            their results; or tool definitions (dicts) to pass through as they are.
        max_steps: Rounds of tool calls one ask runs at most.
        confirm: Ask before a tool runs: ``True`` shows Run / Skip buttons, or a function of
            the call that returns whether to run it (may be async).
        answer_timeout: Seconds one answer may take in all (``None``: no limit).
        api: ``"chat"`` (Chat Completions) or ``"responses"`` (the Responses API).
        **sampling: Request options sent with every question (``temperature``, ``seed``,
            ``reasoning_effort``, ...), checked against the API's fields.
    """

    def __init__(
        self,
        model: str = "gpt-4o-mini",
        system: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        client: openai.OpenAI | None = None,
        async_client: openai.AsyncOpenAI | None = None,
        context_window: int | None = None,
        max_output_tokens: int | None = None,
        max_turns: int | None = None,
        display: bool | DisplaySink = True,
        safe: bool = True,
        math: bool = True,
        output: Any = None,
        show_reasoning: bool = True,
        cache: str | Path | Cache | bool | None = None,
        price: Price | None = None,
        encoding: str | None = None,
        tools: Iterable[ToolLike] = (),
        max_steps: int = DEFAULT_MAX_STEPS,
        confirm: Confirm = False,
        answer_timeout: float | None = DEFAULT_ANSWER_TIMEOUT_S,
        api: str = "chat",
        **sampling: Any,
    ) -> None:
        # The parameters are the Settings' fields and where to connect (a test holds them
        # together): the settings are taken from them by name, not listed again.
        given = {name: value for name, value in locals().items() if name in field_names()}
        self.clients = Clients.create(
            client, async_client, base_url=base_url, api_key=api_key, cache=cache
        )
        # One cache per conversation: a copy shares its samples and run log.
        self._settings = Settings(**{**given, "cache": self.clients.cache or False})
        self.profile, self.history = _conversation(self._settings)
        self.usage = ChatUsage()

    # -- the settings ----------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings now (frozen); ``bot.settings = bot.settings.replaced(...)`` changes
        them (a new model or tokenizer re-counts the conversation)."""
        history, kept = self.history, self._settings
        if (kept.system, kept.max_turns) != (history.system, history.max_turns):
            # The History holds these two (a loaded session or %%chat may change them).
            kept = dataclasses.replace(kept, system=history.system, max_turns=history.max_turns)
            self._settings = kept
        return kept

    @settings.setter
    def settings(self, new: Settings) -> None:
        old, self._settings = self.settings, new
        if (new.model, new.overrides, new.max_turns) != (old.model, old.overrides, old.max_turns):
            self.profile, self.history = _conversation(new, self.history)
        self.history.system = new.system

    display = Setting["bool | DisplaySink"]()
    safe = Setting[bool]()
    math = Setting[bool]()
    output = Setting[Any]()
    show_reasoning = Setting[bool]()
    max_steps = Setting[int]()
    confirm = Setting[Confirm]()
    answer_timeout = Setting[float | None]()
    api = Setting[API]()
    sampling = Setting[Mapping[str, Any]]()

    @property
    def tools(self) -> Toolbox:
        return self.settings.toolbox

    @classmethod
    def mock(
        cls,
        reply: Any = "echo",
        *,
        model: str = "gpt-4o-mini",
        max_retries: int = 2,
        **settings: Any,
    ) -> Chatbot:
        """A Chatbot on the embedded mock backend: no key, no network, same code paths.

        Args:
            reply: What the mock answers: ``"echo"`` (the question back; the tools offered are
                called; a JSON schema asked for is filled in), ``"markdown:N"``, a fixed text,
                a list of texts (one per request), a :class:`~chatnb.mock.MarkdownSample`, a
                :class:`~chatnb.mock.ToolCall`, or a function of the request.
            model: The model's name in requests and answers (its limits and tokenizer too).
            max_retries: Retries of the openai client, as against a real server.
            **settings: The mock's other options (``ttft_ms``, ``itl_ms``, ``chunking``,
                ``failure``, ``reasoning``, ...: the fields of
                :class:`~chatnb.mock.MockOptions`), then the Chatbot's own (``system``,
                ``display``, ``tools``, sampling options, ...).
        """
        from . import mock

        options, rest = mock.MockOptions.split(reply=reply, **settings)
        # The mock costs nothing, and says so; price=None bills it at the model's list price.
        rest.setdefault("price", MOCK_PRICE)
        own = inspect.signature(cls).parameters
        sampling = {name: value for name, value in rest.items() if name not in own}
        checked_options(
            sampling,
            also_known=mock.MockOptions.model_fields,
            accepted=accepted_options(checked_api(rest.get("api", "chat"))),
        )
        clients = Clients.from_spec(mock.client_spec(options, max_retries=max_retries))
        return cls(model, client=clients.sync, async_client=clients.asynchronous, **rest)

    # -- what the bot talks to -------------------------------------------------------------

    @property
    def model(self) -> str:
        """The model's name; setting it switches models and keeps the conversation."""
        return self.profile.name

    @model.setter
    def model(self, model: str) -> None:
        """Switch models, keeping the conversation (re-counted with the new tokenizer)."""
        self.settings = self.settings.replaced(model=model)

    @property
    def limits(self) -> ModelLimits:
        """The model's context window and answer budget, as chatnb uses them."""
        return self.profile.limits

    @property
    def price(self) -> Price | None:
        """What the answers are billed at (``None``: no price known for the model)."""
        return self.profile.price

    @property
    def client(self) -> openai.OpenAI:
        """The sync openai client of :meth:`ask`: the one given, or built from the settings."""
        return self.clients.sync

    @property
    def async_client(self) -> openai.AsyncOpenAI:
        """The async client of :meth:`aask`: the one given, else the sync client's twin."""
        return self.clients.asynchronous

    @property
    def base_url(self) -> str:
        """The server's API root that the questions go to."""
        return self.clients.base_url

    # -- asking ----------------------------------------------------------------------------

    def __call__(self, prompt: str, **sampling: Any) -> Answer:
        return self.ask(prompt, **sampling)

    def ask(self, prompt: str, *, output: Any = None, **options: Any) -> Answer:
        """Ask, stream the answer into the notebook, remember both, and return the answer.

        Args:
            prompt: The question (text).
            output: An ``ipywidgets.Output`` to show this answer in, instead of the cell.
            **options: For this answer only: sampling options (``temperature``, ...),
                ``tools``, ``max_steps``, ``confirm``, and ``response_format`` (a pydantic
                model: ``answer.parsed`` is one).

        Returns:
            The :class:`~chatnb.exchange.Answer`: its text, reasoning, tool calls and usage.
        """
        return Turn.of(self, output, options).run(prompt)

    async def aask(self, prompt: str, *, output: Any = None, **options: Any) -> Answer:
        """:meth:`ask` for async code (``await bot.aask(...)``); cancelling the task is an
        interrupt (the partial answer is kept).

        Args:
            prompt: The question (text).
            output: An ``ipywidgets.Output`` to show this answer in, instead of the cell.
            **options: For this answer only, as for :meth:`ask`.
        """
        return await Turn.of(self, output, options).arun(prompt)

    # -- the conversation ------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the conversation (the system prompt stays) and the usage totals."""
        self.history.clear()
        self.usage = ChatUsage()

    def undo(self) -> list[ChatMessage]:
        """Remove the last exchange (the last question and all after it); returns it."""
        return self.history.pop_turn()

    def regenerate(self, **sampling: Any) -> Answer:
        """Ask the last question again, replacing its answer.

        Args:
            **sampling: Options for the new answer only, as for :meth:`ask`
                (``temperature=1.0``, ...).
        """
        removed = self.history.pop_turn()
        if not removed or removed[0].role != "user" or not isinstance(removed[0].content, str):
            self.history.extend(removed)
            raise ChatnbError("There is no question to ask again: the history has none.")
        return self.ask(removed[0].content, **sampling)

    def copy(self, **changes: Any) -> Chatbot:
        """A Chatbot with the same clients, settings and conversation so far.

        Args:
            **changes: Settings that replace this Chatbot's in the copy: any argument of the
                constructor (``model``, ``system``, ``display``, sampling options, ...).
        """
        connection = {k: changes.pop(k) for k in CONNECTION if k in changes}
        settings = self.settings.replaced(**changes)
        sync, asynchronous = self.clients.unwrapped
        connection = {"client": sync, "async_client": asynchronous, **connection}
        twin = Chatbot(**connection, **settings.arguments())
        twin.history.extend(self.history)
        return twin

    # -- sessions --------------------------------------------------------------------------

    def to_markdown(self, *, safe: bool | None = None) -> str:
        """The conversation as a readable Markdown transcript.

        Args:
            safe: Escape HTML tags, images and script links outside code (default: the
                Chatbot's own ``safe``); ``False`` gives the text as the model wrote it, for a
                file, not for a cell.
        """
        return transcript(self.history, safe=self.safe if safe is None else safe)

    def save(self, path: str | Path) -> Path:
        """Save the conversation and settings as JSON (never the API key).

        Args:
            path: The file to write.

        Returns:
            The path written.
        """
        base_url = redact_url(self.base_url)
        return Session.of(self.history, self.settings, base_url=base_url).write(path)

    @classmethod
    def load(cls, path: str | Path, *, use_saved_base_url: bool = False, **options: Any) -> Chatbot:
        """A Chatbot with a saved conversation and settings.

        Where to connect comes from ``options`` or the environment, never from the file (a
        file from elsewhere must not send your key to its host), unless
        ``use_saved_base_url=True``; a session saved on the embedded mock loads on a mock.

        Args:
            path: A file written by :meth:`save`.
            use_saved_base_url: Connect to the base URL the file names.
            **options: Arguments of the constructor (``api_key=``, ``client=``,
                ``base_url=``, ``display=``, ...); they win over the saved settings.
        """
        from .mock import BASE_URL

        session = Session.read(path)
        settings = {**session.settings(), **options}
        saved = session.base_url.rstrip("/")
        if saved == BASE_URL and not {"client", "async_client", "base_url"} & set(options):
            bot = cls.mock(**settings)
        else:
            if use_saved_base_url and "base_url" not in options:
                settings["base_url"] = session.base_url or None
            bot = cls(**settings)
            if saved and saved != bot.base_url.rstrip("/") and not use_saved_base_url:
                _warn_elsewhere(path, saved, bot.base_url)
        session.restore(bot.history, path)
        return bot

    def __repr__(self) -> str:
        return (
            f"Chatbot(model={self.model!r}, base_url={redact_url(self.base_url)!r}, "
            f"history={self.history!r})"
        )


def setting_names() -> frozenset[str]:
    """The Chatbot's own settings: its constructor's named parameters."""
    parameters = inspect.signature(Chatbot).parameters.values()
    return frozenset(p.name for p in parameters if p.kind is not p.VAR_KEYWORD)


def _conversation(
    settings: Settings, before: History | None = None
) -> tuple[ModelProfile, History]:
    """The profile of the settings' model, and a History for it that holds ``before``'s
    messages (re-counted with the model's tokenizer)."""
    profile = ModelProfile.resolve(settings.model, settings.overrides)
    history = History(
        settings.system, settings.model, settings.max_turns, encoding=profile.encoding
    )
    if before is not None:
        history.extend(before)
    return profile, history


def _warn_elsewhere(path: str | Path, saved: str, base_url: str) -> None:
    warn_once(
        f"load:{saved}",
        f"{path} was saved against {saved}; this Chatbot talks to {redact_url(base_url)} "
        "(pass base_url=, or use_saved_base_url=True to connect where it was saved).",
    )
