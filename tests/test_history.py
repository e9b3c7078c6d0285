"""History: every trimming rule, its edge cases, and properties over random histories."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatnb.errors import ContextBudgetError
from chatnb.history import History
from chatnb.schema import ChatMessage, Tool
from chatnb.tokens import count_tokens


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def tool_call(call_id: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
        ],
    }


def tool_result(call_id: str, text: str = "42") -> dict[str, Any]:
    return {"role": "tool", "content": text, "tool_call_id": call_id}


def conversation(turns: int, words: int = 20) -> History:
    history = History(system="You are terse.", model="gpt-4o")
    for i in range(turns):
        history.append(user(f"question {i} " + "word " * words))
        history.append(assistant(f"answer {i} " + "word " * words))
    return history


def test_token_total_equals_a_fresh_count_of_the_whole_prompt() -> None:
    history = conversation(5)
    assert history.tokens() == count_tokens(history.messages(), "gpt-4o")


def test_empty_history_and_only_a_system_prompt() -> None:
    empty = History()
    assert len(empty) == 0 and empty.messages() == [] and not empty.fit(10)
    only_system = History(system="Be kind.")
    assert not only_system.fit(100)
    assert only_system.messages() == [{"role": "system", "content": "Be kind."}]


def test_fit_drops_oldest_whole_turns_and_reports_them() -> None:
    history = conversation(10)
    before = list(history)
    budget = history.tokens() - 1
    dropped = history.fit(budget)
    assert dropped.turns == 1 and dropped.messages == 2
    assert str(dropped) == f"1 older turn left out to fit {budget:,} tokens"
    assert list(history) == before[2:]
    assert history.tokens() <= budget


def test_fit_does_nothing_when_it_fits() -> None:
    history = conversation(3)
    assert not history.fit(history.tokens())
    assert len(history) == 6


def test_system_prompt_is_never_dropped_and_a_too_small_budget_is_a_clear_error() -> None:
    history = conversation(3)
    with pytest.raises(ContextBudgetError, match=r"system prompt \(and tools\) alone take"):
        history.fit(5)
    assert len(history) == 6  # nothing changed


def test_a_huge_single_message_is_a_clear_error_and_nothing_is_dropped() -> None:
    history = conversation(3)
    history.append(user("word " * 5000))
    with pytest.raises(
        ContextBudgetError, match=r"newest message is too long: it takes 5,0\d\d tokens"
    ):
        history.fit(1000)
    assert len(history) == 7


def test_tool_call_groups_are_dropped_together_and_history_never_starts_with_a_tool() -> None:
    history = History(model="gpt-4o")
    history.extend(
        [
            user("weather?"),
            tool_call("c1"),
            tool_result("c1"),
            tool_result("c1", "43"),
            assistant("sunny"),
        ]
    )
    history.append(user("and tomorrow?"))
    dropped = history.fit(history.tokens() - 1)
    assert dropped.messages == 5
    assert [m.role for m in history] == ["user"]


def test_max_turns_behaves_like_a_bounded_deque_and_is_reported() -> None:
    history = History(max_turns=2)
    for i in range(4):
        history.append(user(f"q{i}"))
        history.append(assistant(f"a{i}"))
    assert history.turns == 2
    assert [m.content for m in history] == ["q2", "a2", "q3", "a3"]
    report = history.fit(10_000)
    assert report.turns == 2 and report.messages == 4
    assert not history.fit(10_000)


def test_tools_count_against_the_budget() -> None:
    tools = [
        Tool.model_validate(
            {"type": "function", "function": {"name": "f", "description": "x" * 400}}
        )
    ]
    history = conversation(4)
    without = history.tokens()
    assert history.tokens(tools) > without
    history.fit(without, tools=tools)
    assert history.tokens(tools) <= without


def test_pop_clear_and_changing_the_system_prompt_keep_counts_right() -> None:
    history = conversation(3)
    history.pop()
    history.system = "A much longer system prompt than before, with many more words in it."
    assert history.tokens() == count_tokens(history.messages(), "gpt-4o")
    history.clear()
    assert len(history) == 0 and history.turns == 0
    assert history.tokens() == count_tokens(history.messages(), "gpt-4o")


def test_json_round_trip() -> None:
    history = History(system="sys", model="gpt-4")
    history.extend([user("hi"), tool_call("c1"), tool_result("c1"), assistant("bye")])
    text = history.to_json()
    assert json.loads(text)[0] == {"role": "system", "content": "sys"}
    again = History.from_json(text, model="gpt-4")
    assert again.system == "sys"
    assert list(again) == list(history)
    assert again.tokens() == history.tokens()


def test_append_accepts_chat_messages_and_validates_dicts() -> None:
    history = History()
    history.append(ChatMessage(role="user", content="hi"))
    with pytest.raises(ValueError, match="needs content"):
        history.append({"role": "user"})
    assert len(history) == 1


# --- properties ---------------------------------------------------------------------------

WORDS = st.text(alphabet="abcdefgh ", min_size=0, max_size=60).map(lambda s: s or "x")


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for turn in range(draw(st.integers(min_value=0, max_value=12))):
        messages.append(user(draw(WORDS)))
        shape = draw(st.sampled_from(["answer", "tools", "none"]))
        if shape == "tools":
            call_id = f"call_{turn}"
            messages += [
                tool_call(call_id),
                tool_result(call_id, draw(WORDS)),
                assistant(draw(WORDS)),
            ]
        elif shape == "answer":
            messages.append(assistant(draw(WORDS)))
    return messages


def _turn_starts(messages: list[ChatMessage]) -> list[int]:
    return [i for i, m in enumerate(messages) if m.role == "user"]


@settings(max_examples=200, deadline=None)
@given(
    messages=histories(),
    budget=st.integers(min_value=0, max_value=600),
    system=st.sampled_from([None, "Be brief."]),
)
def test_fit_properties(messages: list[dict[str, Any]], budget: int, system: str | None) -> None:
    history = History(system=system)
    history.extend(messages)
    original = list(history)
    try:
        dropped = history.fit(budget)
    except ContextBudgetError:
        assert list(history) == original  # a refused fit changes nothing
        return
    kept = list(history)
    assert history.tokens() <= budget
    assert history.tokens() == count_tokens(history.messages(), "gpt-4o")
    assert history.system == system
    assert kept == original[len(original) - len(kept) :]  # a suffix...
    assert not kept or kept[0].role == "user"  # ...of whole turns
    assert dropped.messages == len(original) - len(kept)
    if dropped:  # minimal: keeping one more turn would not have fitted
        starts = _turn_starts(original)
        previous = max(s for s in starts if s < len(original) - len(kept))
        wider = History(system=system)
        wider.extend(original[previous:])
        assert wider.tokens() > budget


@settings(max_examples=200, deadline=None)
@given(
    messages=histories(),
    budget=st.integers(min_value=0, max_value=600),
    max_turns=st.sampled_from([None, 1, 2, 3]),
)
def test_fitting_plans_exactly_what_fit_does_without_changing_anything(
    messages: list[dict[str, Any]], budget: int, max_turns: int | None
) -> None:
    planned = History(max_turns=max_turns)
    trimmed = History(max_turns=max_turns)
    for message in messages:
        planned.append(message, trim=False)
        trimmed.append(message)
    before = list(planned)
    try:
        plan = planned.fitting(budget)
    except ContextBudgetError:
        with pytest.raises(ContextBudgetError):
            trimmed.fit(budget)
        return
    assert list(planned) == before  # nothing changed
    prompt = planned.messages(skip_turns=plan.turns)
    trimmed.fit(budget)
    assert prompt == trimmed.messages()  # the prompt is what fit would have left
    planned.drop_oldest(plan.turns)
    assert list(planned) == list(trimmed) and planned.tokens() == trimmed.tokens()
