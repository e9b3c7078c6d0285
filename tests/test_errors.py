"""The error tree: drawn in errors.py's docstring and true in code; one class per HTTP failure,
each keeping its status and code; an interrupt that is both a ChatnbError and a
KeyboardInterrupt; errors never edited once raised."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

import chatnb
from chatnb import Chatbot, errors
from chatnb.errors import (
    AnswerInterrupted,
    APIRequestError,
    ChatnbError,
    ChunkValidationError,
    StreamError,
)

_CLASS = re.compile(r"[A-Z]\w+")


def _drawn_tree() -> dict[str, str | None]:
    """Each class of the docstring's drawing, with the class drawn above it (by column)."""
    assert errors.__doc__ is not None
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in errors.__doc__.split("::", 1)[1].splitlines():
        if line and not line.startswith("    "):
            break  # the end of the drawing
        match = _CLASS.search(line)
        if match is None:
            continue
        column = match.start()
        while stack and stack[-1][0] >= column:
            stack.pop()
        parents[match.group()] = stack[-1][1] if stack else None
        stack.append((column, match.group()))
    return parents


def test_the_drawn_tree_is_the_real_one() -> None:
    drawn = _drawn_tree()
    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, BaseException | Warning)
    }
    assert set(drawn) == defined
    for name, parent in drawn.items():
        cls = getattr(errors, name)
        if parent is not None:
            assert cls.__bases__[0] is getattr(errors, parent), name
    assert set(defined) <= set(errors.__all__)  # chatnb.__all__ keeps only the roots
    assert {"ChatnbError", "ChatnbWarning"} <= set(chatnb.__all__)


def test_every_error_renders_as_one_paragraph_from_one_place() -> None:
    owners = [
        cls
        for cls in vars(errors).values()
        if inspect.isclass(cls) and "_render_traceback_" in vars(cls)
    ]
    assert owners == [ChatnbError]
    error = errors.RateLimitError("Slow down.", status=429, code="rate_limit_exceeded")
    assert error._render_traceback_() == ["RateLimitError: Slow down."]


def test_an_interrupt_is_both() -> None:
    interrupted = AnswerInterrupted("stopped", partial="half")
    assert isinstance(interrupted, ChatnbError) and isinstance(interrupted, KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        raise interrupted


def test_context_is_added_to_a_copy_never_to_the_raised_error() -> None:
    original = ChunkValidationError("The frame is bad.", raw="{", partial="")
    explained = original.with_outcome(" Kept.", "partial text")
    assert str(original) == "The frame is bad." and original.partial == ""
    assert str(explained) == "The frame is bad. Kept." and explained.partial == "partial text"
    assert type(explained) is ChunkValidationError and explained.raw == "{"


def _failing(status: int, **failure: Any) -> dict[str, Any]:
    return {"extra_body": {"mock": {"failure": {"status": status, **failure, "times": 1}}}}


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (401, errors.AuthenticationError, "invalid_api_key"),
        (403, errors.PermissionDeniedError, "unsupported_country_region_territory"),
        (404, errors.NotFoundError, "model_not_found"),
        (400, errors.BadRequestError, None),
        (429, errors.RateLimitError, "rate_limit_exceeded"),
        (500, errors.ServerError, None),
        (503, errors.ServerError, None),
    ],
)
def test_each_http_failure_has_its_own_class(
    status: int, kind: type[APIRequestError], code: str | None
) -> None:
    bot = Chatbot.mock(display=False, max_retries=0)
    with pytest.raises(kind) as caught:
        bot.ask("Hi", **_failing(status, retry_after_s=0))
    assert isinstance(caught.value, APIRequestError)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert len(bot.history) == 0


def test_context_length_and_connection_failures_have_their_classes() -> None:
    bot = Chatbot.mock("echo", model="gpt-4", context_window=1_000_000, max_output_tokens=100)
    with pytest.raises(errors.ContextLengthError) as caught:
        bot.ask("word " * 9_000)
    assert isinstance(caught.value, errors.BadRequestError)
    assert caught.value.code == "context_length_exceeded"
    dropped = Chatbot.mock("A long enough answer to break.", display=False)
    with pytest.raises(errors.ConnectionDroppedError) as broken:
        dropped.ask("Hi", extra_body={"mock": {"failure": {"disconnect_after": 3}}})
    assert isinstance(broken.value, StreamError) and broken.value.partial
