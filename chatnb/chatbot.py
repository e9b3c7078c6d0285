"""The Chatbot: ask in a cell, watch the answer stream in, and lose nothing when things fail.

The Chatbot keeps the settings and the conversation; each ask is one
:class:`~chatnb.exchange.Exchange`, sent through the openai client's own transport (auth,
base URL, retries, timeouts). The rooms around it each do one job: :mod:`~chatnb.clients`
(the sync and async clients), :mod:`~chatnb.models` (limits, encoding, price),
:mod:`~chatnb.options` (which request options are accepted), :mod:`~chatnb.display` (the
views), :mod:`~chatnb.session` (save, load, transcript).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import Cache
from .clients import Clients
from .errors import ChatnbError, warn_once
from .exchange import DEFAULT_ANSWER_TIMEOUT_S, Answer, checked_answer_timeout
from .history import History
from .models import ModelProfile, Overrides
from .options import checked_options, request_fields
from .pricing import MOCK_PRICE, Price
from .redaction import redact_url
from .schema import ChatMessage
from .session import Session, transcript
from .tokens import ModelLimits
from .tools import Toolbox, ToolLike
from .turn import DEFAULT_MAX_STEPS, Confirm, Turn, accepted_options
from .usage import ChatUsage, TurnUsage
from .wire import checked_api

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
    ``OPENAI_API_KEY``, as the openai library reads them. ``display`` may be ``False`` or a
    sink of :mod:`chatnb.display`; ``output`` an ``ipywidgets.Output``; ``show_reasoning``
    shows a thinking model's reasoning above the answer; ``cache`` records answers in a SQLite
    file and replays them (:mod:`chatnb.cache`; default: ``CHATNB_CACHE``). ``context_window``,
    ``max_output_tokens``, ``encoding`` and ``price`` describe a model chatnb does not know,
    or override what it knows. ``answer_timeout``: seconds one answer may take (``None``: no
    limit). ``api``: ``"chat"`` (Chat Completions) or ``"responses"``. ``sampling`` options
    (``temperature``, ...) go into every request, checked against the API's fields.
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
        overrides = Overrides(context_window, max_output_tokens, encoding, price)
        self.profile = ModelProfile.resolve(model, overrides)
        self.history = History(system, model, max_turns, encoding=self.profile.encoding)
        self.usage = ChatUsage()
        self.api = checked_api(api)
        self.sampling = checked_options(
            sampling, also_known=setting_names(), accepted=accepted_options(self.api)
        )
        self.display, self.safe, self.math, self.output = display, safe, math, output
        self.show_reasoning = show_reasoning
        self.tools, self.max_steps, self.confirm = Toolbox(tools), max_steps, confirm
        self.answer_timeout = checked_answer_timeout(answer_timeout)
        self.clients = Clients.create(
            client, async_client, base_url=base_url, api_key=api_key, cache=cache
        )

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

        ``reply`` and the mock's other options (``ttft_ms``, ``itl_ms``, ``chunking``,
        ``failure``, ... : the fields of :class:`chatnb.mock.MockOptions`) set up the mock;
        the other ``settings`` are the Chatbot's own (``system``, ``display``, sampling ...).
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
        return self.profile.name

    @model.setter
    def model(self, model: str) -> None:
        """Switch models, keeping the conversation (re-counted with the new tokenizer)."""
        if model != self.model:
            old, self.profile = self.history, self.profile.switched(model)
            self.history = History(old.system, model, old.max_turns, encoding=self.profile.encoding)
            self.history.extend(old)

    @property
    def limits(self) -> ModelLimits:
        return self.profile.limits

    @property
    def price(self) -> Price | None:
        return self.profile.price

    @property
    def client(self) -> openai.OpenAI:
        return self.clients.sync

    @property
    def async_client(self) -> openai.AsyncOpenAI:
        """The async client of :meth:`aask`: the one given, else the sync client's twin."""
        return self.clients.asynchronous

    @property
    def base_url(self) -> str:
        return self.clients.base_url

    # -- asking ----------------------------------------------------------------------------

    def __call__(self, prompt: str, **sampling: Any) -> Answer:
        return self.ask(prompt, **sampling)

    def ask(self, prompt: str, *, output: Any = None, **options: Any) -> Answer:
        """Ask, stream the answer into the notebook, remember both, and return the answer.

        ``options`` apply to this answer only: sampling options, ``tools``, ``max_steps``,
        ``confirm``, and ``response_format`` (a pydantic model: ``answer.parsed`` is one).
        ``output`` (an ``ipywidgets.Output``) shows the answer there instead of in the cell.
        """
        return Turn.of(self, output, options).run(prompt)

    async def aask(self, prompt: str, *, output: Any = None, **options: Any) -> Answer:
        """:meth:`ask` for async code (``await bot.aask(...)``); cancelling the task is an
        interrupt (the partial answer is kept)."""
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
        """Ask the last question again, replacing its answer."""
        removed = self.history.pop_turn()
        if not removed or removed[0].role != "user" or not isinstance(removed[0].content, str):
            self.history.extend(removed)
            raise ChatnbError("There is no question to ask again: the history has none.")
        return self.ask(removed[0].content, **sampling)

    def copy(self, **changes: Any) -> Chatbot:
        """A Chatbot with the same clients, settings and conversation so far; ``changes``
        (``model``, ``system``, ``display``, sampling options, ...) replace settings."""
        settings: dict[str, Any] = {
            "model": self.model,
            "system": self.history.system,
            "client": self.clients.unwrapped[0],
            "async_client": self.clients.unwrapped[1],
            "max_turns": self.history.max_turns,
            "display": self.display,
            "safe": self.safe,
            "math": self.math,
            "output": self.output,
            "show_reasoning": self.show_reasoning,
            "tools": [*self.tools.functions.values(), *self.tools.declared],
            "max_steps": self.max_steps,
            "confirm": self.confirm,
            "answer_timeout": self.answer_timeout,
            "api": self.api,
            "cache": self.clients.cache or False,  # one cache: its samples and log are shared
            **vars(self.profile.overrides),  # context_window, max_output_tokens, encoding, price
            **self.sampling,
        }
        settings.update(changes)
        twin = Chatbot(**settings)
        twin.history.extend(self.history)
        return twin

    # -- sessions --------------------------------------------------------------------------

    def to_markdown(self, *, safe: bool | None = None) -> str:
        """The conversation as a readable Markdown transcript, in safe mode when the Chatbot
        is (``safe=False``: the text as the model wrote it, for a file, not for a cell)."""
        return transcript(self.history, safe=self.safe if safe is None else safe)

    def save(self, path: str | Path) -> Path:
        """Save the conversation and settings as JSON (never the API key)."""
        overrides = self.profile.overrides
        return Session.of(
            self.history,
            model=self.model,
            base_url=redact_url(self.base_url),
            sampling=request_fields(self.sampling),
            context_window=overrides.context_window,
            max_output_tokens=overrides.max_output_tokens,
            max_turns=self.history.max_turns,
            answer_timeout=self.answer_timeout,
        ).write(path)

    @classmethod
    def load(cls, path: str | Path, *, use_saved_base_url: bool = False, **options: Any) -> Chatbot:
        """A Chatbot with a saved conversation and settings.

        ``options`` are the constructor's (``api_key=``, ``client=``, ``base_url=``, ...) and
        win over the saved ones. Where to connect comes from them or the environment, never
        from the file (a file from elsewhere must not send your key to its host), unless
        ``use_saved_base_url=True``; a session saved on the embedded mock loads on a mock.
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
                warn_once(
                    f"load:{saved}",
                    f"{path} was saved against {saved}; this Chatbot talks to "
                    f"{redact_url(bot.base_url)} (pass base_url=, or use_saved_base_url=True "
                    "to connect where it was saved).",
                )
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
