"""A leading ``<think>...</think>`` in an answer's content, split out as reasoning.

Reasoning models served raw (DeepSeek-R1 distills, QwQ and Qwen3 on servers without a
reasoning parser) put their thinking inline, at the start of the content. The tags may arrive
cut anywhere across deltas (``"<thi"``, ``"nk>"``), so the splitter holds back only the few
characters that could still be the start of a tag, and passes everything else on at once.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["ThinkTags"]

_OPEN, _CLOSE = "<think>", "</think>"

Piece = tuple[Literal["reasoning", "content"], str]


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that is a beginning of ``tag``."""
    for size in range(min(len(text), len(tag) - 1), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ThinkTags:
    """Feed content deltas; get back the pieces that are reasoning and those that are content."""

    def __init__(self) -> None:
        self._state: Literal["start", "thinking", "answer"] = "start"
        self._held = ""
        # The newlines right after <think> and </think> belong to neither side.
        self._trim = False

    @property
    def decided(self) -> bool:
        """Everything from now on is content: the caller may stop feeding this splitter."""
        return self._state == "answer" and not self._trim

    def feed(self, text: str) -> list[Piece]:
        if self._trim:
            text = text.lstrip("\n")
            self._trim = not text
        if self._state == "answer":
            return [("content", text)] if text else []
        text, self._held = self._held + text, ""
        if self._state == "start":
            return self._start(text)
        return self._thinking(text)

    def _start(self, text: str) -> list[Piece]:
        stripped = text.lstrip()
        if stripped.startswith(_OPEN):
            self._state, self._trim = "thinking", True
            return self.feed(stripped[len(_OPEN) :])
        if _OPEN.startswith(stripped):  # blank so far, or "<thi": not decided yet
            self._held = text
            return []
        self._state = "answer"
        return [("content", text)]

    def _thinking(self, text: str) -> list[Piece]:
        end = text.find(_CLOSE)
        if end < 0:
            # Held back: what could begin the closing tag, and the newlines before it (the
            # reasoning does not end in the newline that precedes </think>).
            keep = _partial_suffix(text, _CLOSE)
            cut = len(text[: len(text) - keep].rstrip("\n"))
            self._held = text[cut:]
            return [("reasoning", text[:cut])] if cut else []
        self._state, self._trim = "answer", True
        reasoning = text[:end].rstrip("\n")
        pieces: list[Piece] = [("reasoning", reasoning)] if reasoning else []
        return pieces + self.feed(text[end + len(_CLOSE) :])

    def finish(self) -> list[Piece]:
        """The end of the content: what was held back is what it was (an unclosed tag's text
        is reasoning cut short; an undecided start is content)."""
        held, self._held = self._held, ""
        if not held:
            return []
        return [("reasoning" if self._state == "thinking" else "content", held)]
