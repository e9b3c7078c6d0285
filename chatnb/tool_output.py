"""What a tool call leaves in the conversation, made fit to keep: redacted, and cut to size.

A tool's result goes to the model, into the History (so into every later request, the cache
and the run log) and onto the screen. Before any of that:

- **Redaction.** The Chatbot's secrets, and anything shaped like a credential, are removed
  (:class:`~chatnb.redaction.Secrets`, the one rule), from results and errors alike: an
  upstream 401 that echoes ``Authorization: Bearer sk-...`` in a tool's exception must not
  travel on.
- **Size.** A result gets at most :data:`SHARE` of the prompt budget, and never more than the
  room the turn has left (counting what cutting the results of its earlier rounds would free:
  :meth:`History.make_room <chatnb.history.History.make_room>` does so before the next
  request), shared among the results still to come in its round; a longer one is cut at a
  token boundary with a plain note for the model. The whole (redacted) text stays
  in :attr:`ToolResult.full_content <chatnb.tools.ToolResult.full_content>`.
- A call's **arguments** get at most :data:`SHARE` of the budget too, and half the room the
  turn has left (shared among the answer's calls): longer ones are left out of the History
  (``{}`` in their place) and the call is not run; the model is told why, and the whole call
  stays in the ``Answer``'s ``tool_calls``.
"""

from __future__ import annotations

from dataclasses import replace

from .redaction import Secrets
from .schema import ChatMessage, ToolCall
from .tokens import Tokenizer, cut_to_tokens
from .tools import ToolResult

__all__ = [
    "NOTE_TOKENS",
    "SHARE",
    "arguments_allowance",
    "fitted_calls",
    "fitted_result",
    "result_allowance",
    "too_long",
]

#: The largest part of the prompt budget one tool result, or one call's arguments, may take.
SHARE = 0.5
#: Tokens kept free for a cut result's note and its message's framing.
NOTE_TOKENS = 80
#: What a call whose arguments were left out carries in the History instead.
LEFT_OUT_ARGUMENTS = "{}"


def result_allowance(budget: int, room: int, pending: int) -> int:
    """Tokens of text a result may take: its share of the budget, and of the room the turn
    has left, split among the ``pending`` results of the round (this one included)."""
    return max(0, min(int(budget * SHARE), room // max(1, pending)) - NOTE_TOKENS)


def arguments_allowance(budget: int, room: int, calls: int) -> int:
    """Tokens a call's arguments may take: half of the room is kept for the results."""
    return max(0, min(int(budget * SHARE), room // (2 * max(1, calls))))


def fitted_result(
    result: ToolResult, secrets: Secrets, tokenizer: Tokenizer, allowance: int
) -> ToolResult:
    """``result`` redacted, and cut to ``allowance`` tokens with a note when longer."""
    whole = secrets.redact(result.content)
    kept = cut_to_tokens(whole, allowance, tokenizer)
    if kept is None:
        return replace(result, content=whole)
    note = (
        f"[chatnb cut this result: {result.name} returned {len(whole):,} characters, more than "
        f"fit in the context window; only the first {len(kept):,} are above. Ask for less "
        "(a narrower query, a page, a summary) if you need the rest.]"
    )
    content = f"{kept}\n\n{note}" if kept else note
    return replace(result, content=content, full_content=whole)


def fitted_calls(
    message: ChatMessage, tokenizer: Tokenizer, allowance: int
) -> tuple[ChatMessage, dict[str, int]]:
    """``message`` with the arguments of each call longer than ``allowance`` tokens left out,
    and those calls' ids with how many characters their arguments had."""
    if not message.tool_calls:
        return message, {}
    cut: dict[str, int] = {}
    calls: list[ToolCall] = []
    for call in message.tool_calls:
        arguments = call.function.arguments
        if cut_to_tokens(arguments, allowance, tokenizer) is None:
            calls.append(call)
            continue
        cut[call.id] = len(arguments)
        function = call.function.model_copy(update={"arguments": LEFT_OUT_ARGUMENTS})
        calls.append(call.model_copy(update={"function": function}))
    if not cut:
        return message, {}
    return message.model_copy(update={"tool_calls": calls}), cut


def too_long(call: ToolCall, characters: int) -> ToolResult:
    """The result of a call whose arguments were left out: not run, and why."""
    content = (
        f"Error: not run: the arguments of this call were {characters:,} characters, more than "
        "fit in the context window, so chatnb left them out of the conversation. Send shorter "
        "arguments (split the work into several calls)."
    )
    return ToolResult(call.id, call.function.name, call.function.arguments, content, False)
