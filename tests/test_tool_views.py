"""The views of tool calls and structured answers: readable at every update, throttled, and
within the answer's byte budget."""

from __future__ import annotations

import json
import re
from typing import Any

from chatnb.display import PREVIEW_BUDGET_RATIO, PREVIEW_BUDGET_SLACK, StructuredView, ToolCallView
from chatnb.events import (
    ContentDelta,
    ToolCallArgumentsDelta,
    ToolCallDone,
    ToolCallResult,
    ToolCallStarted,
)
from chatnb.mock.instances import instance

from .fakes import FakeClock, FakeSink

_FENCED_JSON = re.compile(r"(`{3,})json\n(.*)\n\1", re.S)


DOCUMENT = json.dumps(
    instance(
        {
            "type": "object",
            "properties": {
                "title": {"type": "string", "minLength": 40},
                "stops": {"type": "array", "minItems": 40, "items": {"$ref": "#/$defs/Stop"}},
            },
            "$defs": {
                "Stop": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "minutes": {"type": "integer"}},
                }
            },
        }
    )
)


def _pieces(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def test_a_structured_answer_is_valid_json_at_every_update() -> None:
    screen = FakeSink()
    view = StructuredView(screen, clock=FakeClock(step=0.06))  # every delta may render
    for piece in _pieces(DOCUMENT):
        view.handle(ContentDelta(0, piece))
    view.close()
    assert len(screen.versions) > 20
    for version in screen.versions:
        if version != "*…*":
            fenced = _FENCED_JSON.fullmatch(version)
            assert fenced, version
            json.loads(fenced.group(2))  # never half-written JSON on screen
    assert json.loads(_FENCED_JSON.fullmatch(screen.outputs[0]).group(2)) == json.loads(DOCUMENT)  # type: ignore[union-attr]
    budget = PREVIEW_BUDGET_RATIO * len(DOCUMENT.encode()) + PREVIEW_BUDGET_SLACK
    final = len(screen.outputs[0].encode())
    assert view.output.payload_bytes <= budget + final


def test_a_structured_answer_that_is_not_json_is_shown_as_it_is() -> None:
    screen = FakeSink()
    view = StructuredView(screen)
    for piece in _pieces("Sorry, I cannot answer in JSON."):
        view.handle(ContentDelta(0, piece))
    view.close()
    assert screen.outputs == ["```\nSorry, I cannot answer in JSON.\n```"]


def _call_events(arguments: str) -> list[Any]:
    return [
        ToolCallStarted(0, 0, "call_1", "plan_trip"),
        *(ToolCallArgumentsDelta(0, 0, piece) for piece in _pieces(arguments)),
        ToolCallDone(0, 0, "call_1", "plan_trip", arguments),
    ]


def test_a_tool_call_fills_in_then_settles_with_its_result() -> None:
    screen = FakeSink()
    view = ToolCallView(screen, clock=FakeClock(step=0.06))
    for event in _call_events(DOCUMENT):
        view.handle(event)
    view.close()
    view.handle(ToolCallResult(0, 0, "call_1", "plan_trip", "x" * 5_000, True, 0.25))
    (shown,) = screen.outputs
    assert shown.startswith("<details><summary>✓ <code>plan_trip</code> · 250 ms</summary>")
    assert "(5,000 characters in all)" in shown and "x" * 1_501 not in shown
    live = screen.versions[:-1]
    assert len(live) > 10 and all(v.startswith("<details open>") for v in live)
    for version in live[1:]:  # the first, at the call's start, shows "…"
        fenced = _FENCED_JSON.search(version)
        assert fenced, version
        json.loads(fenced.group(2))
    output = view.calls[0].output
    budget = PREVIEW_BUDGET_RATIO * len(DOCUMENT.encode()) + PREVIEW_BUDGET_SLACK
    assert output.payload_bytes <= budget + sum(map(len, map(str.encode, screen.versions[-2:])))


def test_updates_are_throttled_by_the_clock() -> None:
    screen = FakeSink()
    view = StructuredView(screen, clock=lambda: 0.0)  # no time passes: no second render
    for piece in _pieces(DOCUMENT):
        view.handle(ContentDelta(0, piece))
    view.close()
    assert len(screen.versions) == 2  # the first render, and the final one
