"""The conversation: a system prompt plus a deque of messages, trimmed to a token budget.

Each message's token count is computed once, when it is appended, and the running total is
kept up to date, so :meth:`History.fit` costs O(messages dropped), not O(history²) as when
the whole history is re-counted after each removal. A message appended while the tokenizer
is still loading in the background is counted when a count is first needed: the first ask
of a new Chatbot is sent at once when its bytes alone prove it fits
(:meth:`History.fits_uncounted`).

A *turn* starts at a user (or system/developer) message and runs up to the next one: the
question, the answer, and any tool calls and tool results between them. Trimming drops whole
turns from the oldest end, so the kept history never starts with an assistant or tool message
and a tool call is never separated from its results.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from .errors import ContextBudgetError
from .schema import ChatMessage, Tool
from .tokens import (
    REPLY_PRIMING_TOKENS,
    ByteBound,
    DeferredTokenizer,
    Tokenizer,
    cut_to_tokens,
    deferred_encoding_for,
    message_tokens,
    rules_for,
    tools_tokens,
)

__all__ = ["Dropped", "History"]

_TURN_STARTERS = frozenset({"user", "system", "developer"})
#: Tokens a tool result cut by :meth:`History.make_room` keeps free for its note.
_CUT_RESULT_TOKENS = 60


@dataclass(frozen=True)
class Dropped:
    """What one :meth:`History.fit` left out."""

    turns: int = 0
    messages: int = 0
    tokens: int = 0
    budget: int | None = None

    def __bool__(self) -> bool:
        return self.messages > 0

    def __str__(self) -> str:
        if not self:
            return "nothing left out"
        turns = "1 older turn" if self.turns == 1 else f"{self.turns} older turns"
        limit = (
            f"to fit {self.budget:,} tokens"
            if self.budget is not None
            else "to keep the turn limit"
        )
        return f"{turns} left out {limit}"


def _as_message(message: ChatMessage | Mapping[str, Any]) -> ChatMessage:
    return message if isinstance(message, ChatMessage) else ChatMessage.model_validate(message)


class History:
    """A system prompt and the messages after it, each counted once.

    >>> history = History(system="Be brief.", model="gpt-4o")
    >>> history.append({"role": "user", "content": "Hello"})
    >>> history.fit(budget=1000)          # doctest: +SKIP

    Args:
        system: The system prompt, always kept first.
        model: The model whose tokenizer counts the messages.
        max_turns: Keep at most this many turns (a question and all that answers it);
            ``None``: as many as the budget allows.
        encoding: The tokenizer's encoding, for a model chatnb does not know.
    """

    def __init__(
        self,
        system: str | None = None,
        model: str = "gpt-4o",
        max_turns: int | None = None,
        *,
        encoding: str | None = None,
    ) -> None:
        if max_turns is not None and max_turns < 1:
            raise ValueError("max_turns must be at least 1")
        self.model = model
        self.max_turns = max_turns
        # Loaded in the background: making a Chatbot does not wait ~1 s for the vocabulary.
        self._tokenizer: Tokenizer = deferred_encoding_for(model, encoding)
        self._rules = rules_for(model)
        # A count is None while the tokenizer loads (counted on first need, see _counted);
        # _message_tokens sums the counted ones, _uncounted says how many are not.
        self._messages: deque[tuple[ChatMessage, int | None]] = deque()
        self._message_tokens = 0
        self._uncounted = 0
        self._turns = 0
        self._pending = Dropped()
        # Notes about messages ("interrupted") and the reasoning a thinking model showed before
        # an answer: for people, never sent to the model.
        self._notes: dict[int, str] = {}
        self._reasoning: dict[int, str] = {}
        self.system = system

    # --- the system prompt ---

    @property
    def system(self) -> str | None:
        return self._system

    @system.setter
    def system(self, text: str | None) -> None:
        self._system = text
        self._counted_system: int | None = None  # counted when first needed

    @property
    def _system_tokens(self) -> int:
        if self._counted_system is None:
            text, tokenizer = self._system, self._tokenizer
            system = ChatMessage(role="system", content=text) if text else None
            self._counted_system = message_tokens(system, tokenizer, self._rules) if system else 0
        return self._counted_system

    @property
    def tokenizer(self) -> Tokenizer:
        return self._tokenizer

    def _loading(self) -> bool:
        """Whether counting now would wait for the tokenizer's background load."""
        tokenizer = self._tokenizer
        return isinstance(tokenizer, DeferredTokenizer) and not tokenizer.ready

    def _counted(self) -> deque[tuple[ChatMessage, int]]:
        """The messages, each counted: those appended while the tokenizer loaded are counted
        now (waiting for the load if it is still going on)."""
        if self._uncounted:
            tokenizer, rules = self._tokenizer, self._rules
            self._messages = deque(
                (m, message_tokens(m, tokenizer, rules) if c is None else c)
                for m, c in self._messages
            )
            self._message_tokens = sum(c or 0 for _, c in self._messages)
            self._uncounted = 0
        # Every count is an int now (the invariant _uncounted == 0 says so).
        return cast("deque[tuple[ChatMessage, int]]", self._messages)

    def fits_uncounted(self, budget: int, tools: Iterable[Tool] | None = None) -> bool:
        """Whether, with the tokenizer still loading, the prompt certainly fits ``budget``
        (and ``max_turns``) without counting it: each token is at least one byte, so a
        prompt of at most ``budget`` bytes (overheads as counted) fits. ``False`` once the
        tokenizer has loaded: then counting costs nothing to wait for."""
        if not self._loading():
            return False
        if self.max_turns is not None and self._turns > self.max_turns:
            return False
        bound, rules = ByteBound(), self._rules
        total = REPLY_PRIMING_TOKENS + (tools_tokens(tools, bound, rules) if tools else 0)
        if self._counted_system is not None:
            total += self._counted_system
        elif self._system:
            total += message_tokens(ChatMessage(role="system", content=self._system), bound, rules)
        for message, count in self._messages:
            total += message_tokens(message, bound, rules) if count is None else count
            if total > budget:
                return False
        return total <= budget

    # --- the messages ---

    def append(
        self,
        message: ChatMessage | Mapping[str, Any],
        *,
        note: str | None = None,
        reasoning: str | None = None,
        trim: bool = True,
    ) -> ChatMessage:
        """Add a message (a dict or a :class:`ChatMessage`); returns it validated.

        Args:
            message: The message: ``{"role": "user", "content": "..."}`` or a
                :class:`~chatnb.schema.ChatMessage`.
            note: A mark for people (chatnb notes an interrupted answer); never part of the
                prompt.
            reasoning: What a thinking model reasoned before this answer; never part of the
                prompt.
            trim: ``False`` keeps turns beyond ``max_turns`` for now (an ask that may still
                fail: :meth:`drop_oldest` trims when its answer is committed).
        """
        parsed = _as_message(message)
        if note is not None:
            self._notes[id(parsed)] = note
        if reasoning:
            self._reasoning[id(parsed)] = reasoning
        # While the tokenizer loads, counted later: an ask need not wait for it to be sent.
        count = None if self._loading() else message_tokens(parsed, self._tokenizer, self._rules)
        self._messages.append((parsed, count))
        if count is None:
            self._uncounted += 1
        else:
            self._message_tokens += count
        if parsed.role in _TURN_STARTERS or len(self._messages) == 1:
            self._turns += 1
            if trim and self.max_turns is not None and self._turns > self.max_turns:
                self._pending = self._merge(self._pending, self._drop_oldest_turn(), None)
        return parsed

    def extend(self, messages: Iterable[ChatMessage | Mapping[str, Any]] | History) -> None:
        """Append messages; those of another History keep their notes and reasoning (and are
        re-counted with this History's tokenizer).

        Args:
            messages: Messages (dicts or :class:`~chatnb.schema.ChatMessage`), or a History.
        """
        if isinstance(messages, History):
            for message in messages:
                note, reasoning = messages.note(message), messages.reasoning(message)
                self.append(message, note=note, reasoning=reasoning)
            return
        for item in messages:
            self.append(item)

    def pop(self) -> ChatMessage:
        """Remove and return the newest message."""
        message, tokens = self._messages.pop()
        if tokens is None:
            self._uncounted -= 1
        else:
            self._message_tokens -= tokens
        self._forget(message)
        if message.role in _TURN_STARTERS or not self._messages:
            self._turns -= 1
        return message

    def open_calls(self) -> list[tuple[str, str]]:
        """(id, function name) of the newest assistant message's tool calls that no ``tool``
        message after it answers yet (the API refuses a history with any)."""
        answered: set[str] = set()
        for message, _ in reversed(self._messages):
            if message.role == "tool":
                answered.add(message.tool_call_id or "")
                continue
            calls = message.tool_calls if message.role == "assistant" else None
            return [(c.id, c.function.name) for c in calls or () if c.id not in answered]
        return []

    def answer_open_calls(self, content: str) -> list[tuple[str, str]]:
        """Answer every open tool call with ``content`` (say why it was not run); returns
        (id, function name) of the calls that were open."""
        missing = self.open_calls()
        for call_id, _ in missing:
            self.append({"role": "tool", "tool_call_id": call_id, "content": content})
        return missing

    def pop_turn(self) -> list[ChatMessage]:
        """Remove and return the newest turn: the last user message and all after it."""
        removed: list[ChatMessage] = []
        while self._messages:
            removed.append(self.pop())
            if removed[-1].role == "user":
                break
        return removed[::-1]

    def clear(self) -> None:
        """Forget every message; the system prompt stays."""
        self._messages.clear()
        self._notes.clear()
        self._reasoning.clear()
        self._message_tokens = self._turns = self._uncounted = 0
        self._pending = Dropped()

    def __iter__(self) -> Iterator[ChatMessage]:
        return (message for message, _ in self._messages)

    def __len__(self) -> int:
        return len(self._messages)

    def __getitem__(self, index: int) -> ChatMessage:
        return self._messages[index][0]

    @property
    def turns(self) -> int:
        return self._turns

    def _forget(self, message: ChatMessage) -> None:
        self._notes.pop(id(message), None)
        self._reasoning.pop(id(message), None)

    def reasoning(self, message: ChatMessage) -> str | None:
        """The reasoning shown before ``message`` (an answer of a thinking model), if any."""
        return self._reasoning.get(id(message))

    def note(self, message: ChatMessage) -> str | None:
        """The note on ``message`` (for example ``"interrupted"``), if any."""
        return self._notes.get(id(message))

    @property
    def last(self) -> ChatMessage | None:
        return self._messages[-1][0] if self._messages else None

    def messages(self, skip_turns: int = 0) -> list[dict[str, Any]]:
        """The prompt as the API takes it: the system prompt first, then the history.

        Args:
            skip_turns: Leave out this many of the oldest turns (what :meth:`fitting` left
                out).
        """
        prompt = [{"role": "system", "content": self._system}] if self._system else []
        skip = sum(size for size, _ in self._turn_sizes()[:skip_turns]) if skip_turns else 0
        prompt += [m.model_dump(exclude_none=True) for m, _ in list(self._messages)[skip:]]
        return prompt

    def tokens(self, tools: Iterable[Tool] | None = None) -> int:
        """Prompt tokens of the whole conversation, as the API will bill them.

        Args:
            tools: Tool definitions sent with it (they take prompt tokens too).
        """
        self._counted()
        total = REPLY_PRIMING_TOKENS + self._system_tokens + self._message_tokens
        return total + (tools_tokens(tools, self._tokenizer, self._rules) if tools else 0)

    # --- trimming ---

    def _drop_oldest_turn(self) -> Dropped:
        messages = tokens = 0
        counted = self._counted()
        while counted:
            message, count = counted[0]
            if messages and message.role in _TURN_STARTERS:
                break
            counted.popleft()
            self._forget(message)
            self._message_tokens -= count
            messages += 1
            tokens += count
        self._turns -= 1
        return Dropped(turns=1, messages=messages, tokens=tokens)

    @staticmethod
    def _merge(first: Dropped, second: Dropped, budget: int | None) -> Dropped:
        return Dropped(
            turns=first.turns + second.turns,
            messages=first.messages + second.messages,
            tokens=first.tokens + second.tokens,
            budget=budget if budget is not None else first.budget,
        )

    def _last_turn_tokens(self) -> tuple[int, int, int]:
        """Tokens of the newest turn, of its largest message, and that message's index."""
        total = largest = 0
        counted = self._counted()
        where = len(counted) - 1
        for index in range(len(counted) - 1, -1, -1):
            message, count = counted[index]
            total += count
            if count > largest:
                largest, where = count, index
            if message.role in _TURN_STARTERS:
                break
        return total, largest, where

    def _newest_turn_start(self) -> int:
        for index in range(len(self._messages) - 1, -1, -1):
            if self._messages[index][0].role in _TURN_STARTERS:
                return index
        return 0

    def _describe(self, index: int) -> str:
        """A message of the newest turn, named for an error."""
        message = self._messages[index][0]
        if index == len(self._messages) - 1 and message.role in _TURN_STARTERS:
            return "The newest message"
        if message.role == "tool":
            return f"The result of tool call {message.tool_call_id!r} in the newest turn"
        if message.role == "assistant":
            what = "tool calls" if message.tool_calls else "answer"
            return f"The {what} of the model in the newest turn"
        return "The question of the newest turn"

    def _turn_sizes(self) -> list[tuple[int, int]]:
        """(messages, tokens) of each turn, the oldest first."""
        sizes: list[list[int]] = []
        for message, count in self._counted():
            if not sizes or message.role in _TURN_STARTERS:
                sizes.append([0, 0])
            sizes[-1][0] += 1
            sizes[-1][1] += count
        return [(size, tokens) for size, tokens in sizes]

    def fitting(self, budget: int, tools: Iterable[Tool] | None = None) -> Dropped:
        """What :meth:`fit` would leave out (turns beyond ``max_turns``, then the oldest until
        the prompt fits ``budget``), without changing anything: the prompt of an ask that
        may still fail is ``messages(skip_turns=...)``; :meth:`drop_oldest` makes it so once
        its answer is committed. Raises :class:`ContextBudgetError` as :meth:`fit` does."""
        tools = list(tools) if tools else None
        self._check_budget(budget, tools)
        sizes = self._turn_sizes()
        turns = max(0, len(sizes) - self.max_turns) if self.max_turns is not None else 0
        total = self.tokens(tools) - sum(tokens for _, tokens in sizes[:turns])
        while total > budget and turns < len(sizes) - 1:
            total -= sizes[turns][1]
            turns += 1
        left_out = sizes[:turns]
        return Dropped(
            turns=turns,
            messages=sum(size for size, _ in left_out),
            tokens=sum(tokens for _, tokens in left_out),
            budget=budget,
        )

    def drop_oldest(self, turns: int) -> None:
        """Drop the ``turns`` oldest turns (what :meth:`fitting` left out, at commit)."""
        for _ in range(min(turns, self._turns)):
            self._drop_oldest_turn()

    def room(
        self, budget: int, tools: Iterable[Tool] | None = None, *, reclaim: bool = False
    ) -> int:
        """Tokens the newest turn may still grow by (tool calls and results) before the
        system prompt, the tools and that turn alone no longer fit ``budget``. ``reclaim``:
        counting what :meth:`make_room` could free by cutting the results of the turn's
        earlier rounds (newer results matter more than older ones)."""
        fixed = self._fixed_tokens(list(tools) if tools else None)
        room = budget - fixed - self._last_turn_tokens()[0]
        if reclaim:
            counted = self._counted()
            room += sum(max(0, counted[i][1] - _CUT_RESULT_TOKENS) for i in self._earlier_results())
        return room

    def _earlier_results(self) -> list[int]:
        """Indices of the tool results of the newest turn's finished rounds: all of them, or
        while the newest answer's calls are still being answered, those before it."""
        start = self._newest_turn_start()
        end = len(self._messages)
        if self.open_calls():
            end = max(i for i in range(start, end) if self._messages[i][0].role == "assistant")
        return [i for i in range(start, end) if self._messages[i][0].role == "tool"]

    def _fixed_tokens(self, tools: list[Tool] | None) -> int:
        fixed = REPLY_PRIMING_TOKENS + self._system_tokens
        return fixed + (tools_tokens(tools, self._tokenizer, self._rules) if tools else 0)

    def _check_budget(self, budget: int, tools: list[Tool] | None) -> None:
        fixed = self._fixed_tokens(tools)
        if fixed > budget:
            raise ContextBudgetError(
                f"The system prompt (and tools) alone take {fixed:,} tokens, more than the "
                f"budget of {budget:,}. Shorten the system prompt or allow more tokens."
            )
        newest, largest, where = self._last_turn_tokens()
        if fixed + newest > budget:
            named = self._describe(where)
            advice = (
                "Shorten it, or raise the budget by reserving fewer tokens for the answer."
                if named == "The newest message"
                else "Ask a new question (this turn is then left out as a whole), or raise the "
                "budget by reserving fewer tokens for the answer."
            )
            raise ContextBudgetError(
                f"{named} is too long: it takes {largest:,} tokens "
                f"({fixed + newest:,} with the system prompt and its turn), but the prompt "
                f"budget is {budget:,} tokens. {advice}"
            )

    def make_room(self, budget: int, tools: Iterable[Tool] | None = None) -> int:
        """Cut the tool results of the newest turn, the oldest first, each with a note, until
        that turn fits ``budget`` (every call keeps its one ``tool`` message, so the API
        still accepts the History). Nothing changes if cutting them all would not be enough
        (then :meth:`fitting` names the message that does not fit). Returns how many were cut."""
        over = -self.room(budget, tools)
        start, counted = self._newest_turn_start(), self._counted()
        tool_messages = [i for i in range(start, len(counted)) if counted[i][0].role == "tool"]
        spare = sum(max(0, counted[i][1] - _CUT_RESULT_TOKENS) for i in tool_messages)
        if over <= 0 or spare < over:
            return 0
        cut = 0
        for index in tool_messages:
            if over <= 0:
                break
            over -= self._cut_result(index, over)
            cut += 1
        return cut

    def _cut_result(self, index: int, over: int) -> int:
        """Cut the tool message at ``index`` by about ``over`` tokens; returns tokens saved."""
        message, count = self._counted()[index]
        text = message.content if isinstance(message.content, str) else ""
        keep = max(0, count - over - _CUT_RESULT_TOKENS)
        kept = cut_to_tokens(text, keep, self._tokenizer)
        note = (
            f"[chatnb cut this result to make room in the context window: {len(text):,} "
            "characters did not fit with the rest of this turn.]"
        )
        shorter = message.model_copy(update={"content": f"{kept}\n\n{note}" if kept else note})
        tokens = message_tokens(shorter, self._tokenizer, self._rules)
        self._messages[index] = (shorter, tokens)
        self._message_tokens += tokens - count
        if id(message) in self._notes:
            self._notes[id(shorter)] = self._notes.pop(id(message))
        return count - tokens

    def fit(self, budget: int, tools: Iterable[Tool] | None = None) -> Dropped:
        """Drop the oldest whole turns until the prompt fits ``budget`` tokens.

        The system prompt is never dropped, nor the newest turn: if those alone exceed the
        budget, :class:`~chatnb.errors.ContextBudgetError` is raised and nothing is changed.

        Args:
            budget: Prompt tokens the conversation may take.
            tools: Tool definitions sent with it (they take prompt tokens too).

        Returns:
            What was left out (also what ``max_turns`` dropped since the last fit).
        """
        tools = list(tools) if tools else None
        self._check_budget(budget, tools)
        dropped = Dropped(budget=budget)
        while self.tokens(tools) > budget:
            dropped = self._merge(dropped, self._drop_oldest_turn(), budget)
        report = self._merge(self._pending, dropped, budget)
        self._pending = Dropped()
        return report

    # --- plain JSON ---

    def to_list(self) -> list[dict[str, Any]]:
        return self.messages()

    def to_json(self, **dumps: Any) -> str:
        """The conversation as a JSON list of messages (the system prompt first).

        Args:
            **dumps: Options of ``json.dumps`` (``indent=2``, ...).
        """
        return json.dumps(self.to_list(), ensure_ascii=False, **dumps)

    @classmethod
    def from_list(
        cls,
        messages: Iterable[Mapping[str, Any]],
        model: str = "gpt-4o",
        max_turns: int | None = None,
        *,
        encoding: str | None = None,
    ) -> History:
        """A History of plain messages, as :meth:`to_list` gives them (a system message first
        becomes the system prompt).

        Args:
            messages: Message dicts.
            model: The model whose tokenizer counts them.
            max_turns: As the constructor's.
            encoding: The tokenizer's encoding, for a model chatnb does not know.
        """
        items = list(messages)
        system: str | None = None
        if items and items[0].get("role") == "system":
            content = _as_message(items.pop(0)).content
            if not isinstance(content, str):
                raise ValueError("a system prompt saved in a history must be text")
            system = content
        history = cls(system=system, model=model, max_turns=max_turns, encoding=encoding)
        history.extend(items)
        return history

    @classmethod
    def from_json(cls, text: str, model: str = "gpt-4o", **options: Any) -> History:
        """A History of the JSON :meth:`to_json` wrote.

        Args:
            text: A JSON list of messages.
            model: The model whose tokenizer counts them.
            **options: ``max_turns=`` and ``encoding=``, as :meth:`from_list` takes them.
        """
        return cls.from_list(json.loads(text), model=model, **options)

    def __repr__(self) -> str:
        system = "set" if self._system else "none"
        return (
            f"History(model={self.model!r}, system={system}, messages={len(self)}, "
            f"turns={self._turns}, tokens={self.tokens():,})"
        )
