"""The Chatbot: ask in a cell, watch the answer stream in, and lose nothing when things fail.

One :meth:`Chatbot.ask` is one :class:`_Exchange`: the question goes into the History, the
History is fitted to the model's budget, the request goes out through the openai client's own
transport (auth, base URL, retries, timeouts), and every SSE frame is decoded and validated
once by :mod:`chatnb.stream` as it arrives. Whatever happens next (the answer, an HTTP error,
a broken stream, Ctrl-C) ends in exactly one place, so the screen, the History and the error
always agree: an answer that started is kept, a question that got nothing is taken back.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .display import DisplaySink, MarkdownStream, TextSink
from .errors import AnswerInterrupted, ChatnbError
from .explain import Where, explain
from .history import History
from .pricing import Price, price_for
from .schema import ChatCompletionRequest, ChatMessage, Usage
from .stream import DONE, SSEDecoder, StreamAccumulator, parse_chunk
from .tokens import model_limits
from .usage import ChatUsage, TurnUsage

if TYPE_CHECKING:
    import openai

    from .mock import Chunking, Reply

__all__ = ["Answer", "ChatUsage", "Chatbot", "TurnUsage"]

#: The format tag of a saved session (``Chatbot.save``).
SESSION_FORMAT = "chatnb.session/1"

_INTERRUPTED = "interrupted"
_FAILED = "failed"
# Options that are not request fields but that the openai client's create() takes.
_CLIENT_OPTIONS = frozenset({"extra_body", "extra_headers", "extra_query", "timeout"})


class Answer(str):
    """The text of an answer, with how it ended.

    Already shown while it streamed, so as the last expression of a cell it is not shown a
    second time.
    """

    finish_reason: str | None
    usage: TurnUsage | None
    shown: bool

    def __new__(
        cls,
        text: str,
        *,
        finish_reason: str | None = None,
        usage: TurnUsage | None = None,
        shown: bool = False,
    ) -> Answer:
        answer = super().__new__(cls, text)
        answer.finish_reason, answer.usage, answer.shown = finish_reason, usage, shown
        return answer

    def _ipython_display_(self) -> None:
        if not self.shown:
            from IPython.display import display

            text = str(self)
            display({"text/markdown": text, "text/plain": text}, raw=True)  # type: ignore[no-untyped-call]


@dataclass
class _Exchange:
    """One question and its streamed answer: decoding, validation, display, accounting."""

    question: ChatMessage
    request: dict[str, Any]
    local_prompt_tokens: int
    display: MarkdownStream | None
    decoder: SSEDecoder = field(default_factory=SSEDecoder)
    accumulator: StreamAccumulator = field(default_factory=StreamAccumulator)
    saw_done: bool = False
    started_at: float = field(default_factory=time.perf_counter)
    first_token_at: float | None = None

    def receive(self, data: bytes) -> None:
        for event in self.decoder.feed(data):
            self._event(event.data)

    def _event(self, data: str) -> None:
        if data == DONE:
            self.saw_done = True
            return
        chunk = parse_chunk(data)
        self.accumulator.add(chunk)
        for choice in chunk.choices:
            text = choice.delta.content or choice.delta.refusal
            if choice.index == 0 and text:
                if self.first_token_at is None:
                    self.first_token_at = time.perf_counter()
                if self.display is not None:
                    self.display.feed(text)

    def end(self) -> None:
        for event in self.decoder.flush():
            self._event(event.data)
        if not self.accumulator.done:
            self.accumulator.result()  # raises TruncatedStreamError with the partial text

    @property
    def text(self) -> str:
        choice = self.accumulator.choices.get(0)
        if choice is None:
            return ""
        return choice.content or choice.refusal or ""

    def note(self, text: str) -> None:
        if self.display is not None:
            self.display.note(text)


class Chatbot:
    """A conversation with an OpenAI-compatible chat model, streamed into the notebook.

    >>> bot = Chatbot.mock()                       # no key, no network
    >>> bot = Chatbot("gpt-4o", system="Be brief.")  # OPENAI_API_KEY from the environment
    >>> bot.ask("What is a context window?")       # doctest: +SKIP

    ``client`` takes a configured ``openai.OpenAI`` (Azure, a proxy, custom retries) and
    ``async_client`` an ``openai.AsyncOpenAI`` for :meth:`aask`; otherwise both are built from
    ``base_url`` / ``api_key`` or the ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` variables, as
    the openai library does. ``display`` may be ``False`` (no live display) or a sink of
    :mod:`chatnb.display`; ``output`` an ``ipywidgets.Output``. ``context_window``,
    ``max_output_tokens``, ``encoding`` (a tiktoken name) and ``price`` describe a model chatnb
    does not know, or override what it knows. ``sampling`` options
    (``temperature``, ``max_tokens``, ...) go into every request and are checked against the
    Chat Completions fields.
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
        display: bool | DisplaySink | TextSink = True,
        safe: bool = True,
        output: Any = None,
        price: Price | None = None,
        encoding: str | None = None,
        **sampling: Any,
    ) -> None:
        self._model = model
        self.encoding = encoding
        self.history = History(system=system, model=model, max_turns=max_turns, encoding=encoding)
        self.usage = ChatUsage()
        self._price = price
        self.price = price or price_for(model)
        self._limit_overrides = {
            "context_window": context_window,
            "max_output_tokens": max_output_tokens,
        }
        self.limits = model_limits(model, **self._limit_overrides)
        self.sampling = _checked_sampling(sampling)
        self.display, self.safe, self.output = display, safe, output
        self._client = client
        self._async_client = async_client
        if client is None and async_client is None:
            self._client = _build_client(base_url, api_key)

    @classmethod
    def mock(
        cls,
        reply: Reply = "echo",
        *,
        model: str = "gpt-4o-mini",
        ttft_ms: float = 0.0,
        itl_ms: float = 0.0,
        jitter_ms: float = 0.0,
        chunking: Chunking = "tokens",
        failure: Any = None,
        seed: int | None = None,
        max_retries: int = 2,
        **options: Any,
    ) -> Chatbot:
        """A Chatbot on the embedded mock backend: no key, no network, same code paths.

        ``reply`` is the mock's (``"echo"``, a text, a list of texts, a
        :class:`~chatnb.mock.MarkdownSample`, a callable); timings are in milliseconds.
        """
        from . import mock

        sync, asynchronous = mock.client_pair(
            reply,
            max_retries=max_retries,
            chunking=chunking,
            ttft_ms=ttft_ms,
            itl_ms=itl_ms,
            jitter_ms=jitter_ms,
            failure=failure,
            seed=seed,
        )
        return cls(model, client=sync, async_client=asynchronous, **options)

    @property
    def model(self) -> str:
        return self._model

    @model.setter
    def model(self, model: str) -> None:
        """Switch models, keeping the conversation (re-counted with the new tokenizer)."""
        if model == self._model:
            return
        old = self.history
        self.history = History(
            system=old.system, model=model, max_turns=old.max_turns, encoding=self.encoding
        )
        for message in old:
            self.history.append(message, note=old.note(message))
        self._model = model
        self.price = self._price or price_for(model)
        self.limits = model_limits(model, **self._limit_overrides)

    # -- clients ---------------------------------------------------------------------------

    @property
    def client(self) -> openai.OpenAI:
        if self._client is None:
            raise ChatnbError(
                "This Chatbot was given only an async client: use `await bot.aask(...)`."
            )
        return self._client

    @property
    def async_client(self) -> openai.AsyncOpenAI:
        """The async client of :meth:`aask`: the one given, else one like the sync client."""
        if self._async_client is None:
            import openai

            sync = self.client
            if type(sync) is not openai.OpenAI:  # Azure and other subclasses add their own auth
                raise ChatnbError(
                    f"aask needs an async client like this {type(sync).__name__}: pass "
                    f"async_client=openai.Async{type(sync).__name__}(...) to the Chatbot."
                )
            self._async_client = openai.AsyncOpenAI(
                api_key=sync.api_key,
                base_url=sync.base_url,
                organization=sync.organization,
                project=sync.project,
                timeout=sync.timeout,
                max_retries=sync.max_retries,
            )
        return self._async_client

    @property
    def _api_key(self) -> str | None:
        client = self._client or self._async_client
        return getattr(client, "api_key", None)

    @property
    def client_max_retries(self) -> int:
        client = self._client or self._async_client
        return int(getattr(client, "max_retries", 0))

    @property
    def base_url(self) -> str:
        client = self._client or self._async_client
        return str(getattr(client, "base_url", ""))

    # -- asking ----------------------------------------------------------------------------

    def __call__(self, prompt: str, **sampling: Any) -> Answer:
        return self.ask(prompt, **sampling)

    def ask(self, prompt: str, *, output: Any = None, **sampling: Any) -> Answer:
        """Ask, stream the answer into the notebook, remember both, and return the answer.

        ``sampling`` options apply to this answer only; ``output`` (an ``ipywidgets.Output``)
        shows it there instead of in the cell.
        """
        exchange = self._begin(prompt, sampling, output)
        try:
            create = self.client.chat.completions.with_streaming_response.create
            with create(**exchange.request) as response:
                for data in response.iter_bytes():
                    exchange.receive(data)
            exchange.end()
        except BaseException as error:
            raise self._fail(exchange, error) from None
        return self._finish(exchange)

    async def aask(self, prompt: str, *, output: Any = None, **sampling: Any) -> Answer:
        """:meth:`ask` for async code (``await bot.aask(...)``); cancelling the task is an
        interrupt (the partial answer is kept)."""
        exchange = self._begin(prompt, sampling, output)
        try:
            create = self.async_client.chat.completions.with_streaming_response.create
            async with create(**exchange.request) as response:
                async for data in response.iter_bytes():
                    exchange.receive(data)
            exchange.end()
        except asyncio.CancelledError:
            self._fail(exchange, KeyboardInterrupt())
            raise
        except BaseException as error:
            raise self._fail(exchange, error) from None
        return self._finish(exchange)

    def reset(self) -> None:
        """Forget the conversation (the system prompt stays) and the usage totals."""
        self.history.clear()
        self.usage = ChatUsage()

    # -- sessions ---------------------------------------------------------------------------

    def copy(self, **changes: Any) -> Chatbot:
        """A Chatbot with the same clients, settings and conversation so far; ``changes``
        (``model``, ``system``, ``display``, sampling options, ...) replace settings."""
        settings: dict[str, Any] = {
            "model": self.model,
            "system": self.history.system,
            "client": self._client,
            "async_client": self._async_client,
            "max_turns": self.history.max_turns,
            "display": self.display,
            "safe": self.safe,
            "output": self.output,
            "price": self._price,
            "encoding": self.encoding,
            **self._limit_overrides,
            **self.sampling,
        }
        settings.update(changes)
        twin = Chatbot(**settings)
        for message in self.history:
            twin.history.append(message, note=self.history.note(message))
        return twin

    def widget(self) -> Any:
        """A chat widget on this bot: conversation, prompt box, Send/Stop, model and sampling
        controls (ipywidgets)."""
        from .workbench.widget import ChatWidget

        return ChatWidget(self)

    def undo(self) -> list[ChatMessage]:
        """Remove the last exchange (the last question and all after it); returns it."""
        removed: list[ChatMessage] = []
        while len(self.history):
            removed.append(self.history.pop())
            if removed[-1].role == "user":
                break
        return removed[::-1]

    def regenerate(self, **sampling: Any) -> Answer:
        """Ask the last question again, replacing its answer."""
        removed = self.undo()
        if not removed or removed[0].role != "user" or not isinstance(removed[0].content, str):
            self.history.extend(removed)
            raise ChatnbError("There is no question to ask again: the history has none.")
        return self.ask(removed[0].content, **sampling)

    def to_markdown(self) -> str:
        """The conversation as a readable Markdown transcript."""
        sections = [f"**system**\n\n{self.history.system}"] if self.history.system else []
        for message in self.history:
            note = self.history.note(message)
            title = f"**{message.role}**" + (f" ({note})" if note else "")
            content = message.content if isinstance(message.content, str) else ""
            sections.append(f"{title}\n\n{content}")
        return "\n\n---\n\n".join(sections) + "\n"

    def save(self, path: str | Path) -> Path:
        """Save the conversation and settings as JSON (never the API key)."""
        notes = {
            str(index): note
            for index, message in enumerate(self.history)
            if (note := self.history.note(message)) is not None
        }
        session = {
            "format": SESSION_FORMAT,
            "model": self.model,
            "base_url": self.base_url,
            "sampling": {k: v for k, v in self.sampling.items() if k not in _CLIENT_OPTIONS},
            **self._limit_overrides,
            "max_turns": self.history.max_turns,
            "messages": self.history.to_list(),
            "notes": notes,
        }
        target = Path(path)
        target.write_text(json.dumps(session, ensure_ascii=False, indent=1) + "\n")
        return target

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Chatbot:
        """A Chatbot with a saved conversation and settings.

        ``options`` are the constructor's (``api_key=``, ``client=``, ``display=``, ...) and
        win over the saved ones. A session saved on the embedded mock loads on an echo mock.
        """
        session = json.loads(Path(path).read_text())
        if session.get("format") != SESSION_FORMAT:
            raise ChatnbError(f"{path} is not a saved chatnb session ({SESSION_FORMAT}).")
        settings: dict[str, Any] = {
            "model": session["model"],
            "context_window": session.get("context_window"),
            "max_output_tokens": session.get("max_output_tokens"),
            "max_turns": session.get("max_turns"),
            **session.get("sampling", {}),
        }
        settings.update(options)
        from .mock import BASE_URL

        on_mock = session.get("base_url", "").rstrip("/") == BASE_URL
        if on_mock and "client" not in options and "async_client" not in options:
            bot = cls.mock(**settings)
        else:
            settings.setdefault("base_url", session.get("base_url"))
            bot = cls(**settings)
        messages = list(session["messages"])
        if messages and messages[0].get("role") == "system":
            bot.history.system = messages.pop(0)["content"]
        notes = session.get("notes", {})
        for index, message in enumerate(messages):
            bot.history.append(message, note=notes.get(str(index)))
        return bot

    def _begin(self, prompt: str, sampling: dict[str, Any], output: Any = None) -> _Exchange:
        options = {**self.sampling, **_checked_sampling(sampling)}
        question = self.history.append({"role": "user", "content": prompt})
        reserved = options.get("max_completion_tokens") or options.get("max_tokens")
        try:
            dropped = self.history.fit(self.limits.prompt_budget(reserved))
        except ChatnbError:
            self.history.pop()
            raise
        request = {
            "model": self.model,
            "messages": self.history.messages(),
            "stream": True,
            "stream_options": {"include_usage": True},
            **options,
        }
        display = None
        if output is not None:
            display = MarkdownStream(self.safe, output=output)
        elif self.display is True:
            display = MarkdownStream(self.safe, output=self.output)
        elif self.display is not False:
            display = MarkdownStream(self.safe, sink=self.display)
        exchange = _Exchange(question, request, self.history.tokens(), display)
        if dropped:
            exchange.note(f"({dropped}.)")
        return exchange

    def _finish(self, exchange: _Exchange) -> Answer:
        result = exchange.accumulator.result()
        choice = result.choices[0]
        self.history.append(choice.message)
        if exchange.display is not None:
            exchange.display.close()
        if choice.finish_reason == "length":
            exchange.note(
                "(The answer was cut by the token limit: finish_reason 'length'. Ask it to "
                "continue, or allow more tokens with max_tokens=.)"
            )
        elif not exchange.saw_done:
            exchange.note(
                "(The server ended the stream without its closing [DONE]; the answer is complete.)"
            )
        usage = self._account(exchange, result.usage)
        return Answer(
            exchange.text,
            finish_reason=choice.finish_reason,
            usage=usage,
            shown=exchange.display is not None,
        )

    def _account(self, exchange: _Exchange, reported: Usage | None) -> TurnUsage:
        first = exchange.first_token_at
        turn = TurnUsage(
            prompt_tokens=reported.prompt_tokens if reported else None,
            completion_tokens=reported.completion_tokens if reported else None,
            local_prompt_tokens=exchange.local_prompt_tokens,
            local_completion_tokens=self.history.tokenizer.count(exchange.text),
            ttft_s=None if first is None else first - exchange.started_at,
            total_s=time.perf_counter() - exchange.started_at,
        ).priced(self.price)
        self.usage.add(turn)
        return turn

    def _fail(self, exchange: _Exchange, error: BaseException) -> BaseException:
        """Keep what arrived, take back a question that got nothing, and explain."""
        if exchange.display is not None:
            exchange.display.close()  # the partial answer stays on screen as it was
        partial = exchange.text
        started = bool(partial)  # a role chunk alone is not an answer worth keeping
        if isinstance(error, KeyboardInterrupt):
            kind, explained = _INTERRUPTED, None
        else:
            kind, explained = _FAILED, self._explain(error, partial)
        if started:
            message = {"role": "assistant", "content": partial}
            self.history.append(message, note=kind)
        elif self.history.last is exchange.question:
            self.history.pop()
        if kind == _INTERRUPTED:
            kept = (
                f"the partial answer ({len(partial):,} characters) is kept in bot.history"
                if started
                else "nothing had arrived; the question was taken back"
            )
            return AnswerInterrupted(f"the answer was interrupted: {kept}.", partial=partial)
        assert explained is not None
        return explained

    def _explain(self, error: BaseException, partial: str) -> BaseException:
        where = Where(
            base_url=self.base_url,
            model=self.model,
            context_window=self.limits.context_window,
            retries=self.client_max_retries,
            secret=self._api_key,
        )
        return explain(error, partial, where)

    def __repr__(self) -> str:
        return (
            f"Chatbot(model={self.model!r}, base_url={self.base_url!r}, history={self.history!r})"
        )


def _build_client(base_url: str | None, api_key: str | None) -> openai.OpenAI:
    import openai

    try:
        return openai.OpenAI(base_url=base_url, api_key=api_key)
    except openai.OpenAIError as missing:
        raise ChatnbError(
            "No API key: set the OPENAI_API_KEY environment variable or pass api_key=..., "
            "or try Chatbot.mock(), which needs none."
        ) from missing


def _checked_sampling(sampling: dict[str, Any]) -> dict[str, Any]:
    """``sampling`` if every name is a Chat Completions field; a clear error otherwise."""
    known = set(ChatCompletionRequest.model_fields) | _CLIENT_OPTIONS
    reserved = {"model", "messages", "stream", "stream_options"}
    for name in sampling:
        if name in reserved:
            raise TypeError(f"{name!r} is set by the Chatbot itself and cannot be passed here")
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise TypeError(
                f"{name!r} is not a Chat Completions option.{hint} "
                "Vendor-specific fields go in extra_body={...}."
            )
    return sampling
