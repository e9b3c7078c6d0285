"""One request: the question in the History, the streamed answer through the views, one outcome.

:meth:`Exchange.begin` adds the question (none when the tool loop asks the model to go on
after tool results) and fits the History to the budget; :meth:`run` / :meth:`arun` send the
request through the openai client's transport; :meth:`receive`
decodes and validates each frame once and hands its events to the views; whatever happens
next ends in :meth:`finish` (the answer is committed and accounted) or :meth:`fail` (what
arrived is kept and noted, a question that got nothing is taken back, and the failure is
explained), so the screen, the History and the error always agree.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .cache import OUTCOME_HEADER
from .clients import Clients
from .errors import AnswerInterrupted, AnswerTimeoutError
from .events import (
    ContentDelta,
    ReasoningDelta,
    RefusalDelta,
    StreamEvent,
    ToolCallArgumentsDelta,
    ToolCallResult,
    ToolCallStarted,
)
from .explain import Where, explain, page_not_stream
from .history import Dropped, History
from .interrupts import deferred_interrupts
from .models import ModelProfile
from .pricing import Price
from .redaction import Secrets
from .runlog import Entry, RunLog
from .schema import ChatMessage, Tool, ToolCall, Usage
from .stream import SSEDecoder
from .tokens import answer_begun
from .tool_output import arguments_allowance, fitted_calls
from .usage import ChatUsage, TurnUsage
from .wire import ChatCompletionsWire, Reader, Wire

if TYPE_CHECKING:
    from .display import Views  # imported at the first ask (see turn.py)
    from .tools import ToolResult

__all__ = [
    "DEFAULT_ANSWER_TIMEOUT_S",
    "FAILED",
    "INTERRUPTED",
    "Answer",
    "Exchange",
    "checked_answer_timeout",
]

#: The History's notes on answers that did not end well.
INTERRUPTED = "interrupted"
FAILED = "failed"

#: How long one streamed answer may take, start to end, unless ``answer_timeout=`` says
#: otherwise: 10 minutes, longer than a long answer of a thinking model takes, short enough
#: that a server that only trickles keep-alives cannot hold a notebook's cell for good.
DEFAULT_ANSWER_TIMEOUT_S = 600.0

# What a tool call of an answer that broke off shows: it was never run.
_CUT_OFF = "Not run: the answer stopped before it was complete."
# Events that mean the model has started answering (the time to first token).
_FIRST_TOKEN = (ContentDelta, RefusalDelta, ReasoningDelta, ToolCallStarted)
# Events that carry generated tokens (the end of what tokens/s is measured over).
_TOKENS = (*_FIRST_TOKEN, ToolCallArgumentsDelta)


def _is_json(headers: Mapping[str, str]) -> bool:
    return headers.get("content-type", "").split(";")[0].strip() == "application/json"


class Answer(str):
    """The text of an answer, with how it ended and what the model reasoned before it.

    ``tool_calls``: the calls this answer asks for (chatnb runs those of Python tools in its
    tool loop); ``tool_results``: what the tools run during the ask returned; ``parsed``: a
    structured answer, validated (``response_format=``). Already shown while it streamed, so
    as the last expression of a cell it is not shown a second time; one that was not (a
    Chatbot with ``display=False``) is shown in safe mode unless its Chatbot's ``safe`` is off.
    """

    #: Shown in safe mode (the Chatbot's ``safe``, set by the turn).
    safe: bool = True

    finish_reason: str | None
    usage: TurnUsage | None
    shown: bool
    reasoning: str
    refusal: str | None
    tool_calls: list[ToolCall]
    tool_results: list[ToolResult]
    parsed: Any

    def __new__(
        cls,
        text: str,
        *,
        finish_reason: str | None = None,
        usage: TurnUsage | None = None,
        shown: bool = False,
        reasoning: str = "",
        refusal: str | None = None,
        tool_calls: list[ToolCall] | None = None,
    ) -> Answer:
        answer = super().__new__(cls, text)
        answer.finish_reason, answer.usage, answer.shown = finish_reason, usage, shown
        answer.reasoning, answer.refusal = reasoning, refusal
        answer.tool_calls, answer.tool_results, answer.parsed = tool_calls or [], [], None
        return answer

    def _ipython_display_(self) -> None:
        if not self.shown:
            from IPython.display import display

            from .markdown import neutralize

            text = str(self)
            shown = neutralize(text) if self.safe else text
            display({"text/markdown": shown, "text/plain": text}, raw=True)  # type: ignore[no-untyped-call]


def checked_answer_timeout(seconds: float | None) -> float | None:
    """``answer_timeout=`` as given, if it is a number of seconds above 0 or ``None``."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
        raise ValueError(
            f"answer_timeout={seconds!r}: give the seconds one answer may take (above 0), "
            "or None for no limit"
        )
    return float(seconds)


def tool_definitions(options: Mapping[str, Any]) -> list[Tool] | None:
    """The ``tools`` of a request, validated (they count against the prompt budget)."""
    # The server's built-in tools (Responses API) are not counted: their cost is the server's.
    tools = [tool for tool in options.get("tools") or () if tool.get("type") == "function"]
    if not tools:
        return None
    try:
        return [Tool.model_validate(tool) for tool in tools]
    except ValidationError as invalid:
        raise TypeError(
            f"tools=: not a list of Chat Completions tool definitions ({invalid})"
        ) from None


def _fitted(history: History, budget: int, tools: list[Tool] | None) -> Dropped:
    """What the prompt leaves out to fit ``budget``; a Dropped without a budget when the
    tokenizer is still loading and the prompt's bytes prove it fits (sent without waiting,
    counted later)."""
    if history.fits_uncounted(budget, tools):
        return Dropped()
    # A turn grown past the window by its own tool results (a model switched to a smaller
    # one, many rounds) has the oldest of them cut, not the newest blamed.
    history.make_room(budget, tools)
    # What the prompt leaves out is dropped from the History only when the answer is
    # committed: a failed ask changes nothing.
    return history.fitting(budget, tools)


@dataclass
class Exchange:
    """One question and its streamed answer: decoding, validation, views, outcome."""

    history: History
    question: ChatMessage | None
    request: dict[str, Any]
    #: chatnb's count of the prompt; ``None`` while the tokenizer loaded when it was sent
    #: (counted at :meth:`finish`, before the answer joins the History).
    local_prompt_tokens: int | None
    views: Views | None
    where: Where
    price: Price | None
    decoder: SSEDecoder = field(default_factory=SSEDecoder)
    #: The wire format this exchange speaks, and the reader of its stream.
    wire: Wire = field(default_factory=ChatCompletionsWire)
    reader: Reader = field(default_factory=ChatCompletionsWire.reader)
    log: RunLog | None = None
    started_at: float = field(default_factory=time.perf_counter)
    first_token_at: float | None = None
    #: When the newest token arrived: tokens/s is the model's pace between the first and the
    #: last, not the time spent drawing or counting after them.
    last_token_at: float | None = None
    #: When the body ended: the answer's time, not counting chatnb's own counts after it.
    ended_at: float | None = None
    #: What the cache did for this request (``hit``, ``miss``, ``off``), if there is one.
    cached: str | None = None
    #: The oldest turns this request's prompt left out: dropped when its answer is committed.
    left_out: int = 0
    #: Seconds the whole answer may take (``None``: no limit), checked as each piece arrives;
    #: a server that sends nothing at all is the client's read timeout's to end.
    answer_timeout: float | None = None
    #: The prompt budget and the tool definitions this request was fitted to.
    budget: int = 0
    tools: list[Tool] | None = None
    #: Calls of the answer whose arguments were too long to keep (id -> their characters):
    #: kept in the History without them, and not run (:mod:`~chatnb.tool_output`).
    cut_calls: dict[str, int] = field(default_factory=dict)

    @classmethod
    def begin(
        cls,
        history: History,
        prompt: str | None,
        request: dict[str, Any],
        profile: ModelProfile,
        clients: Clients,
        views: Views | None,
        wire: Wire | None = None,
    ) -> Exchange:
        """Add the question (``None``: go on from tool results) and fit the History to the
        model's budget (the output the request reserves kept free); the History is unchanged
        if the question cannot fit."""
        tools = tool_definitions(request)
        reserved = request.get("max_completion_tokens") or request.get("max_tokens")
        budget = profile.limits.prompt_budget(reserved)
        before = history.last
        try:
            question = None
            if prompt is not None:
                question = history.append({"role": "user", "content": prompt}, trim=False)
            dropped = _fitted(history, budget, tools)
        except BaseException:
            with deferred_interrupts(reraise=False):
                if prompt is not None and history.last is not before:
                    history.pop()
            raise
        where = Where(
            base_url=clients.base_url,
            model=profile.name,
            context_window=profile.limits.context_window,
            retries=clients.max_retries,
            secrets=clients.secrets + Secrets.of(headers=request.get("extra_headers")),
        )
        request = {**request, "messages": history.messages(skip_turns=dropped.turns)}
        # Not counted yet when the tokenizer is still loading (the first ask of a new bot).
        prompt_tokens = None if dropped.budget is None else history.tokens(tools) - dropped.tokens
        exchange = cls(history, question, request, prompt_tokens, views, where, profile.price)
        exchange.left_out, exchange.budget, exchange.tools = dropped.turns, budget, tools
        exchange.log = clients.log
        if wire is not None:
            exchange.wire, exchange.reader = wire, wire.reader()
        if dropped:
            exchange.note(f"({dropped}.)")
        return exchange

    # -- the stream --------------------------------------------------------------------------

    def run(self, clients: Clients, usage: ChatUsage) -> Answer:
        """Send the request, stream the answer in, and commit it (or fail, keeping it)."""
        try:
            create = self.wire.create(clients.sync)
            with create(**self.wire.request(self.request)) as response:
                self.cached = response.headers.get(OUTCOME_HEADER)
                self._check_kind(response.headers)
                if _is_json(response.headers):
                    self.receive_whole(response.read())
                else:
                    for data in response.iter_bytes():
                        self.receive(data)
            self.end()
        except BaseException as error:
            raise self.fail(error) from None
        return self.finish(usage)

    async def arun(self, clients: Clients, usage: ChatUsage) -> Answer:
        """:meth:`run` with the async client; a cancelled task is an interrupt."""
        try:
            create = self.wire.create(clients.asynchronous)
            async with create(**self.wire.request(self.request)) as response:
                self.cached = response.headers.get(OUTCOME_HEADER)
                self._check_kind(response.headers)
                if _is_json(response.headers):
                    self.receive_whole(await response.read())
                else:
                    async for data in response.iter_bytes():
                        self.receive(data)
            self.end()
        except asyncio.CancelledError:
            self.fail(KeyboardInterrupt())
            raise
        except BaseException as error:
            raise self.fail(error) from None
        return self.finish(usage)

    def _check_kind(self, headers: Mapping[str, str]) -> None:
        """A web page where a stream was asked for: a base URL that is no API (a server that
        answers every path with its home page), said so rather than as a broken stream."""
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if kind in ("text/html", "application/xhtml+xml"):
            raise page_not_stream(kind, self.where)

    def receive(self, data: bytes) -> None:
        for event in self.decoder.feed(data):
            self._frame(event.data)
        self._check_deadline()

    def _check_deadline(self) -> None:
        """Past ``answer_timeout`` with the answer unfinished: stop reading it."""
        limit = self.answer_timeout
        if limit is None or self.reader.done:
            return
        if time.perf_counter() - self.started_at > limit:
            raise AnswerTimeoutError(
                f"The answer was not finished after {limit:g} s (answer_timeout), so chatnb "
                "stopped waiting: the server kept the connection open but did not complete "
                "it (a stalled model, or a server that only sends keep-alives). Ask again, or "
                "allow more time with answer_timeout= (None: no limit)."
            )

    def receive_whole(self, body: bytes) -> None:
        """A server that answered the streamed request with one JSON completion (some proxies
        do): read as the one chunk it stands for, and said so under the answer."""
        self._events(self.reader.whole(body))
        self.note("(The server answered with one JSON completion, not a stream.)")

    def _frame(self, data: str) -> None:
        events = self.reader.frame(data)
        if events:
            self._events(events)

    def _events(self, events: list[StreamEvent]) -> None:
        first = False
        if any(isinstance(e, _TOKENS) for e in events):
            self.last_token_at = time.perf_counter()
            if self.first_token_at is None and any(isinstance(e, _FIRST_TOKEN) for e in events):
                self.first_token_at, first = self.last_token_at, True
        if self.views is not None:
            self.views.handle(events)
        if first:
            answer_begun()  # shown: a tokenizer load held back for it may start now

    def end(self) -> None:
        """The body ended: a last frame without its blank line counts; a choice that never
        finished is a truncated stream."""
        for event in self.decoder.flush():
            self._frame(event.data)
        self.ended_at = time.perf_counter()
        if not self.reader.done:
            self.reader.result()  # raises TruncatedStreamError with the partial text

    @property
    def text(self) -> str:
        return self.reader.text(0)

    @property
    def reasoning(self) -> str:
        choice = self.reader.choices.get(0)
        return choice.reasoning if choice else ""

    def note(self, text: str) -> None:
        if self.views is not None:
            self.views.note(text)

    # -- the outcome -------------------------------------------------------------------------

    def finish(self, usage: ChatUsage) -> Answer:
        """Commit the answer to the History, note how it ended, and account for it."""
        result = self.reader.result()
        choice = result.choices[0]
        if self.local_prompt_tokens is None:  # sent before the tokenizer had loaded
            self.local_prompt_tokens = self.history.tokens(self.tools)
        kept, self.cut_calls = self._fitted(choice.message)
        with deferred_interrupts():
            self.history.append(kept, reasoning=self.reasoning)
            self.history.drop_oldest(self.left_out)
        if self.views is not None:
            self.views.close()
        if choice.finish_reason == "length":
            self.note(
                "(The answer was cut by the token limit: finish_reason 'length'. Ask it to "
                "continue, or allow more tokens with max_tokens=.)"
            )
        elif choice.finish_reason == "content_filter":
            self.note(
                "(The provider's content filter stopped this answer: finish_reason "
                "'content_filter'. What arrived before it is kept.)"
            )
        elif not self.reader.saw_end:
            self.note(
                f"(The server ended the stream without its closing {self.wire.end_marker}; "
                "the answer is complete.)"
            )
        turn = self._account(result.usage)
        usage.add(turn)
        self._logged("answered", turn=turn, finish_reason=choice.finish_reason)
        if self.views is not None and self.views.usage_line:
            self.note(turn.line())
        return Answer(
            self.text,
            finish_reason=choice.finish_reason,
            usage=turn,
            shown=self.views is not None,
            reasoning=self.reasoning,
            refusal=choice.message.refusal,
            tool_calls=choice.message.tool_calls,
        )

    def _fitted(self, message: ChatMessage) -> tuple[ChatMessage, dict[str, int]]:
        """The answer as the History keeps it: calls whose arguments take more than their
        share of the window are kept without them (counting them would cost seconds, and
        the next request could not carry them)."""
        if not message.tool_calls:
            return message, {}
        room = self.history.room(self.budget, self.tools, reclaim=True)
        allowance = arguments_allowance(self.budget, room, len(message.tool_calls))
        return fitted_calls(message, self.history.tokenizer, allowance)

    def _account(self, reported: Usage | None) -> TurnUsage:
        first = self.first_token_at
        return TurnUsage.measured(
            reported,
            local_prompt_tokens=self.local_prompt_tokens or 0,
            # The reasoning a model streamed is billed as completion tokens too.
            local_completion_tokens=sum(
                map(self.history.tokenizer.count, (self.text, self.reasoning))
            ),
            ttft_s=None if first is None else first - self.started_at,
            total_s=(self.ended_at or time.perf_counter()) - self.started_at,
            stream_s=None if first is None else (self.last_token_at or first) - first,
            price=self.price,
        )

    def fail(self, error: BaseException) -> BaseException:
        """Keep what arrived, take back a question that got nothing; the error to raise.

        The partial answer's text is kept; tool calls cut off while their arguments streamed
        are dropped (they cannot be run, and the API refuses calls without results)."""
        partial, reasoning = self.text, self.reasoning
        started = bool(partial or reasoning)  # a role chunk alone is not worth keeping
        interrupted = isinstance(error, KeyboardInterrupt)
        # A second Ctrl-C while the History settles and the display closes waits until both
        # are done: the question never stays without its answer, the screen keeps the text.
        with deferred_interrupts(reraise=False):
            if started:
                message = {"role": "assistant", "content": partial}
                note = INTERRUPTED if interrupted else FAILED
                self.history.append(message, note=note, reasoning=reasoning)
                self.history.drop_oldest(self.left_out)
            elif self.question is not None and self.history.last is self.question:
                self.history.pop()
            if self.views is not None:
                self.views.handle(self._not_run())  # calls of a broken answer never run
                self.views.close()  # the partial answer stays on screen as it was
        explained = None if interrupted else explain(error, partial, self.where)
        outcome = INTERRUPTED if interrupted else FAILED
        self._logged(outcome, error=None if explained is None else str(explained))
        if explained is not None:
            return explained
        kept = (
            f"the partial answer ({len(partial):,} characters) is kept in bot.history"
            if started
            else "nothing had arrived; the question was taken back"
        )
        return AnswerInterrupted(f"the answer was interrupted: {kept}.", partial=partial)

    def _not_run(self) -> list[ToolCallResult]:
        choice = self.reader.choices.get(0)
        calls = sorted(choice.tool_calls.items()) if choice is not None else []
        return [
            ToolCallResult(0, index, call.id, call.name, _CUT_OFF, False, 0.0)
            for index, call in calls
        ]

    def _logged(
        self,
        outcome: str,
        *,
        turn: TurnUsage | None = None,
        finish_reason: str | None = None,
        error: str | None = None,
    ) -> None:
        """Keep the exchange in the run log, if there is one."""
        if self.log is not None:  # a file that cannot take it warns (RunLog.append)
            self.log.append(self._entry(outcome, turn, finish_reason, error))

    def _entry(
        self,
        outcome: str,
        turn: TurnUsage | None,
        finish_reason: str | None,
        error: str | None,
    ) -> Entry:
        choice = self.reader.choices.get(0)
        calls = choice.message().tool_calls if choice is not None else None
        return Entry.of(
            self.request,
            self.where.base_url,
            outcome,
            answer=self.text,
            reasoning=self.reasoning,
            tool_calls=[c.model_dump() for c in calls] if calls else None,
            finish_reason=finish_reason,
            usage=turn,
            elapsed_s=time.perf_counter() - self.started_at,
            cache=self.cached,
            error=error,
        )
