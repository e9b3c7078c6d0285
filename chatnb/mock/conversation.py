"""The order of a conversation's messages, checked as the real API checks it.

Every assistant message with ``tool_calls`` must be followed by one ``tool`` message for each
of its call ids before any other message, and a ``tool`` message must answer a call that is
still open. The wording and ``param`` follow OpenAI's 400 errors, so that a client (or
chatnb's tool loop) that corrupts its history fails against the mock as it would in
production.
"""

from __future__ import annotations

from ..schema import ChatMessage
from .api_error import MockAPIError

__all__ = ["check_conversation"]


def _unanswered(position: int, open_ids: list[str]) -> MockAPIError:
    return MockAPIError(
        400,
        "An assistant message with 'tool_calls' must be followed by tool messages responding "
        "to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
        + ", ".join(open_ids),
        type="invalid_request_error",
        param=f"messages.[{position}].role",
    )


def check_conversation(messages: list[ChatMessage]) -> None:
    """Raise the API's 400 error if a tool call is left unanswered or a result answers none."""
    open_ids: list[str] = []
    opened_at = 0
    for position, message in enumerate(messages):
        if message.role == "tool":
            if message.tool_call_id not in open_ids:
                raise MockAPIError(
                    400,
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    type="invalid_request_error",
                    param=f"messages.[{position}].role",
                )
            open_ids.remove(message.tool_call_id)
            continue
        if open_ids:
            raise _unanswered(opened_at, open_ids)
        if message.role == "assistant" and message.tool_calls:
            open_ids = [call.id for call in message.tool_calls]
            opened_at = position
    if open_ids:
        raise _unanswered(opened_at, open_ids)
