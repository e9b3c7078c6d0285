"""One ask, start to finish: the question, the tool loop, a structured answer, one outcome.

A turn sends the question (an :class:`~chatnb.exchange.Exchange`); while the answer asks for
tools, it runs the calls (validated, see :mod:`~chatnb.tools`), keeps each result in the
History and shows it under its call, and asks the model to go on, until the model answers in
text, at most ``max_steps`` rounds. The History holds each round as one whole turn: the
assistant message with ``tool_calls``, then one ``tool`` message per call id. Whatever stops a
turn (Ctrl-C or Stop while arguments stream, while a tool runs or while the final answer
streams, an error, the step limit), every call left open is answered as not run before the
error goes on, so the next ask sends a History the API accepts.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .clients import Clients
from .errors import AnswerInterrupted, ToolStepLimitError
from .events import ToolCallResult
from .exchange import Answer, Exchange, checked_answer_timeout
from .explain import checked_prompt
from .history import History
from .interrupts import deferred_interrupts
from .models import ModelProfile
from .options import checked_options
from .schema import ToolCall
from .settings import DEFAULT_MAX_STEPS, Confirm, Settings, accepted_options
from .structured import AnswerFormat
from .tokens import known_encoding_name
from .tool_output import fitted_result, result_allowance, too_long
from .tools import Toolbox, ToolResult
from .usage import ChatUsage
from .wire import ChatCompletionsWire, Wire, wire_for

if TYPE_CHECKING:
    # The views (IPython, widgets, the Markdown splitter) are imported at the first ask, not
    # when chatnb is: making a Chatbot needs none of them.
    from .display import Views

__all__ = ["DEFAULT_MAX_STEPS", "Confirm", "Conversation", "Turn"]

_T = TypeVar("_T")
#: The steps the loop is written with: run an exchange, run a round's calls.
_Ask = Callable[[Exchange], Awaitable[Answer]]
_RunRound = Callable[[Exchange, list[ToolCall], list[ToolResult]], Awaitable[None]]

_INTERRUPTED = "Not run: the user interrupted the answer before this call ran."
_DECLINED = "Not run: the user declined this call."
#: What ask takes beside sampling options (offered as "did you mean" too).
_ASK_OPTIONS = frozenset({"tools", "max_steps", "confirm", "response_format", "output"})


class Conversation(Protocol):
    """What a turn needs of the Chatbot that asks: its state, and its settings (read once per
    turn, a frozen snapshot)."""

    history: History
    profile: ModelProfile
    clients: Clients
    usage: ChatUsage

    @property
    def settings(self) -> Settings: ...


def supports_strict(model: str) -> bool:
    """Whether a model takes strict tool schemas: OpenAI's models since gpt-4o (the ones
    counted with o200k_base). Elsewhere a plain schema is the safe choice."""
    return known_encoding_name(model) == "o200k_base"


@dataclass
class Turn:
    """One ask of a conversation: one or more exchanges, one answer."""

    bot: Conversation
    #: The Chatbot's settings when the ask began.
    settings: Settings
    request: dict[str, Any]
    tools: Toolbox
    max_steps: int
    confirm: Confirm
    answer_format: AnswerFormat | None
    output: Any
    #: Seconds each streamed answer of the turn may take (``None``: no limit).
    answer_timeout: float | None = None
    #: The views of the newest exchange: where a call answered as not run is shown so.
    _views: Views | None = None
    #: Calls of the newest answer whose arguments were too long to keep (not run).
    _cut: dict[str, int] = field(default_factory=dict)
    #: The wire format every exchange of the turn speaks.
    wire: Wire = field(default_factory=ChatCompletionsWire)

    @classmethod
    def of(cls, bot: Conversation, output: Any, options: dict[str, Any]) -> Turn:
        """A turn with this ask's ``options`` (``tools``, ``response_format``, ``confirm``,
        ``max_steps``, ``answer_timeout``, sampling) over the conversation's own."""
        options, settings = dict(options), bot.settings
        tools = Toolbox(options.pop("tools")) if "tools" in options else settings.toolbox
        max_steps = options.pop("max_steps", None)
        confirm = options.pop("confirm", None)
        timeout = options.pop("answer_timeout", settings.answer_timeout)
        answer_format = AnswerFormat.of(
            options.pop("response_format", settings.sampling.get("response_format"))
        )
        accepted = accepted_options(settings.api)
        request: dict[str, Any] = {
            "model": bot.profile.name,
            "stream": True,
            "stream_options": {"include_usage": True},
            **settings.sampling,
            **checked_options(options, also_known=_ASK_OPTIONS, accepted=accepted),
        }
        if tools:
            request["tools"] = tools.definitions(strict=supports_strict(bot.profile.name))
        if answer_format is not None:
            request["response_format"] = answer_format.response_format
        wire = wire_for(settings.api)
        wire.request({**request, "messages": []})  # an option the API has no place for: now
        turn = cls(
            bot,
            settings,
            request,
            tools,
            settings.max_steps if max_steps is None else max_steps,
            settings.confirm if confirm is None else confirm,
            answer_format,
            output or settings.output,
            checked_answer_timeout(timeout),
        )
        turn.wire = wire
        return turn

    # -- the loop ----------------------------------------------------------------------------

    def _exchange(self, prompt: str | None) -> Exchange:
        from .display import answer_views

        bot, settings = self.bot, self.settings
        views = answer_views(
            settings.display,
            safe=settings.safe,
            math=settings.math,
            output=self.output,
            reasoning=settings.show_reasoning,
            structured=self.answer_format is not None,
        )
        self._views = views
        exchange = Exchange.begin(
            bot.history, prompt, self.request, bot.profile, bot.clients, views, self.wire
        )
        exchange.answer_timeout = self.answer_timeout
        return exchange

    def run(self, prompt: str) -> Answer:
        return _completed(self._loop(prompt, self._ask, self._run_round))

    async def arun(self, prompt: str) -> Answer:
        return await self._loop(prompt, self._aask, self._arun_round)

    async def _loop(self, prompt: str, ask: _Ask, run_round: _RunRound) -> Answer:
        """The tool loop, written once: ``ask`` runs an exchange, ``run_round`` a round's
        calls (keeping each result); :meth:`run` passes steps that never wait, :meth:`arun`
        the async ones."""
        checked_prompt(prompt)
        results: list[ToolResult] = []
        try:
            exchange = self._exchange(prompt)
            for step in itertools.count():
                answer = await ask(exchange)
                self._check_steps(answer, step)
                self._cut = exchange.cut_calls
                await run_round(exchange, answer.tool_calls, results)
                if not self._goes_on(answer):
                    return self._final(answer, results)
                exchange = self._exchange(None)
        except BaseException as error:
            raise self._settle(error) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _ask(self, exchange: Exchange) -> Answer:
        return exchange.run(self.bot.clients, self.bot.usage)

    async def _aask(self, exchange: Exchange) -> Answer:
        return await exchange.arun(self.bot.clients, self.bot.usage)

    async def _run_round(
        self, exchange: Exchange, calls: list[ToolCall], results: list[ToolResult]
    ) -> None:
        """One call after the other, each result kept as soon as it is there."""
        for index, call in enumerate(calls):
            self._record(exchange, index, self._run_call(call), results, len(calls))

    async def _arun_round(
        self, exchange: Exchange, calls: list[ToolCall], results: list[ToolResult]
    ) -> None:
        for index, result in enumerate(await self._arun_calls(calls)):
            self._record(exchange, index, result, results, len(calls))

    def _not_runnable(self, call: ToolCall) -> ToolResult | None:
        """The result of a call that cannot run: its arguments were too long to keep, or its
        tool is declared only, or made up."""
        if call.id in self._cut:
            return too_long(call, self._cut[call.id])
        return self.tools.unknown(call) if self.tools.runnable(call) is None else None

    def _run_call(self, call: ToolCall) -> ToolResult:
        refused = self._not_runnable(call)
        if refused is not None:
            return refused
        return self.tools.run(call) if self._allowed(call) else self._declined(call)

    async def _arun_call(self, call: ToolCall) -> ToolResult:
        return self._not_runnable(call) or await self.tools.arun(call)

    async def _arun_calls(self, calls: list[ToolCall]) -> list[ToolResult]:
        """Parallel calls run concurrently, unless each must be confirmed first."""
        if not self.confirm:
            return list(await asyncio.gather(*(self._arun_call(call) for call in calls)))
        results = []
        for call in calls:
            refused = self._not_runnable(call)
            if refused is not None:
                results.append(refused)
            elif await self._aallowed(call):
                results.append(await self.tools.arun(call))
            else:
                results.append(self._declined(call))
        return results

    def _goes_on(self, answer: Answer) -> bool:
        """Whether the model gets the results and answers again. Not when it answered in
        text, nor when it called a tool declared without a Python function: then the calls
        are the answer (answered as not run, so the History stays valid), returned for the
        caller to look at. A made-up name went back to the model as an error: it goes on."""
        calls = answer.tool_calls
        return bool(calls) and not any(self.tools.declares(call) for call in calls)

    def _check_steps(self, answer: Answer, step: int) -> None:
        """At the step limit, a further round is refused: its calls are answered as not run."""
        if step < self.max_steps or not self._goes_on(answer):
            return
        limit = f"Not run: chatnb stopped the tool loop at max_steps={self.max_steps}."
        with deferred_interrupts():
            left = self.bot.history.answer_open_calls(limit)
            if self._views is not None:
                self._views.handle(
                    ToolCallResult(0, -1, call_id, name, limit, False, 0.0)
                    for call_id, name in left
                )
        raise ToolStepLimitError(
            f"The model was still calling tools after {self.max_steps} rounds, so chatnb "
            f"stopped (max_steps={self.max_steps}). Its last calls were not run; "
            "bot.history says so. Ask again to let it go on, or allow more rounds with "
            "max_steps=."
        )

    def _record(
        self,
        exchange: Exchange,
        index: int,
        result: ToolResult,
        results: list[ToolResult],
        calls: int,
    ) -> None:
        """Keep a call's result in the History (at once: an interrupt later keeps it) and
        show it under its call: redacted, and cut to its share of the room the turn has left
        (shared with the ``calls`` of the round not recorded yet)."""
        history, views = self.bot.history, exchange.views
        room = history.room(exchange.budget, exchange.tools, reclaim=True)
        allowance = result_allowance(exchange.budget, room, calls - index)
        result = fitted_result(result, exchange.where.secrets, history.tokenizer, allowance)
        history.append(result.message())
        results.append(result)
        if views is not None:
            event = ToolCallResult(
                0, index, result.call_id, result.name, result.content, result.ok, result.duration_s
            )
            views.handle([event])

    def _settle(self, error: BaseException) -> BaseException:
        """Answer every call left open, whatever stopped the turn, on screen too; the error to
        raise (a Ctrl-C while a tool ran is told in plain words, as one while the answer
        streamed)."""
        with deferred_interrupts(reraise=False):
            left = self.bot.history.answer_open_calls(_INTERRUPTED)
            if self._views is not None:
                self._views.handle(
                    ToolCallResult(0, -1, call_id, name, _INTERRUPTED, False, 0.0)
                    for call_id, name in left
                )
        if type(error) is not KeyboardInterrupt:
            return error
        if not left:  # between the answer's stream and its tools: the answer is whole
            return AnswerInterrupted(
                "the answer was interrupted as it was being recorded; it is complete and kept "
                "in bot.history."
            )
        count = len(left)
        return AnswerInterrupted(
            f"the tool loop was interrupted while a tool ran; {count} call"
            f"{'s' if count != 1 else ''} not run, noted in bot.history."
        )

    def _final(self, answer: Answer, results: list[ToolResult]) -> Answer:
        answer.tool_results, answer.safe = results, self.settings.safe
        if self.answer_format is not None and not answer.tool_calls:
            answer.parsed = self.answer_format.parse(str(answer), answer.refusal)
        return answer

    # -- asking the person ---------------------------------------------------------------------

    @staticmethod
    def _declined(call: ToolCall) -> ToolResult:
        return ToolResult(call.id, call.function.name, call.function.arguments, _DECLINED, False)

    def _allowed(self, call: ToolCall) -> bool:
        if not self.confirm:
            return True
        if callable(self.confirm):
            verdict = self.confirm(call)
            if inspect.isawaitable(verdict):
                raise TypeError("an async confirm= function needs `await bot.aask(...)`")
            return bool(verdict)
        reply = input(f"Run {call.function.name}({call.function.arguments})? [y/N] ")
        return reply.strip().lower() in ("y", "yes")

    async def _aallowed(self, call: ToolCall) -> bool:
        if callable(self.confirm):
            verdict = self.confirm(call)
            return bool(await verdict if inspect.isawaitable(verdict) else verdict)
        if self.output is not None:
            from .display.confirm import confirm_in_widget

            question = f"Run {call.function.name}({call.function.arguments})?"
            return await confirm_in_widget(self.output, question)
        return self._allowed(call)


def _completed(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """The value of a coroutine whose steps never wait (the sync driver's): it runs to its
    end in one step, here, without an event loop (a notebook's is already running)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        value: _T = done.value
        return value
    coroutine.close()
    raise RuntimeError("a step of the sync tool loop waited")  # pragma: no cover
