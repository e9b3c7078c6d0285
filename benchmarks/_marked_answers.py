"""Answers for the browser benchmark, with a unique marker (``m00001``) at the end of each line.

A marker ends each line that can hold text (the fence lines of a code block, a table's
delimiter row and ``$$`` lines cannot), so the page can tell when that line appeared, and
whether it appeared inside the element Markdown makes of it: each marker comes with the kind
of line it ends (``heading``, ``para``, ``item``, ``row``, ``code``, ``quote``). A paragraph
that is one long line carries a marker every ~100 characters. Markers are always five digits
followed by a non-digit, so a marker cut in half by the stream never matches.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from chatnb.mock.replies import _TOPICS, _WORDS

# The mock's Markdown sample's vocabulary: the same kind of prose the mock streams.
WORDS = [word for word in _WORDS if word != "incrementally"]
TOPICS = tuple(_TOPICS)


@dataclass(frozen=True)
class MarkedAnswer:
    text: str
    #: Each marker, the kind of line it ends, and the offset just past it in ``text``.
    markers: tuple[tuple[str, str, int], ...]


class _Writer:
    """Builds the text line by line, numbering the markers."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.markers: list[tuple[str, str, int]] = []

    def line(self, text: str, kind: str | None = None, end: str = "\n") -> None:
        """``text`` and, for a line of ``kind``, its marker (``{m}`` places it inside)."""
        if kind is not None:
            marker = f"m{len(self.markers) + 1:05d}"
            if "{m}" not in text:
                text += " {m}"
            before, after = text.split("{m}", 1)
            self.markers.append((marker, kind, self.size + len(before) + len(marker)))
            text = before + marker + after
        self.parts.append(text + end)
        self.size += len(text) + len(end)

    def answer(self) -> MarkedAnswer:
        return MarkedAnswer("".join(self.parts), tuple(self.markers))


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.sample(WORDS, rng.randint(8, 16))).capitalize() + "."


def _section(out: _Writer, rng: random.Random) -> None:
    """A section like an LLM's: heading, paragraph with math, list, code, table, quote."""
    topic = rng.choice(TOPICS)
    out.line(f"## {topic.capitalize()}", "heading")
    out.line("")
    out.line(" ".join(_sentence(rng) for _ in range(3)) + " The rate is $r = n / t$ here.", "para")
    out.line("")
    for word in rng.sample(WORDS, 3):
        out.line(f"- **{word}**: {_sentence(rng)}", "item")
    out.line("")
    name = topic.replace(" ", "_")
    out.line("```python")
    out.line(f"def {name}(items: list[str]) -> int:  # {{m}}", "code")
    out.line(f"    # {_sentence(rng)}", "code")
    out.line("    return sum(len(item) for item in items)  # {m}", "code")
    out.line("```")
    out.line("")
    out.line("| setting | value | note {m} |", "row")
    out.line("|---|---:|---|")
    for word in rng.sample(WORDS, 3):
        out.line(f"| `{word}` | {rng.randint(1, 999)} | {_sentence(rng)} {{m}} |", "row")
    out.line("")
    out.line("The total over all items is", "para")
    out.line("")
    out.line("$$")
    out.line("\\sum_{i=1}^{n} x_i = n \\bar{x}")
    out.line("$$")
    out.line("")
    out.line(f"> {_sentence(rng)}", "quote")
    out.line("")
    for i in range(1, 4):
        out.line(f"{i}. {_sentence(rng)}", "item")
    out.line("")


def mixed(size: int) -> MarkedAnswer:
    rng, out = random.Random(7), _Writer()
    out.line("# A sample answer", "heading")
    out.line("")
    while out.size < size:
        _section(out, rng)
    return out.answer()


def table(size: int) -> MarkedAnswer:
    out = _Writer()
    out.line("| step | tokens | note {m} |", "row")
    out.line("|---|---:|---|")
    i = 0
    while out.size < size:
        out.line(f"| `step {i}` | {i * 37 % 1000} | a note on step {i} of the table {{m}} |", "row")
        i += 1
    return out.answer()


def code(size: int) -> MarkedAnswer:
    out = _Writer()
    out.line("```python")
    i = 0
    while out.size < size:
        out.line(f"value_{i} = compute(step={i}, items=items[{i}:])  # {{m}}", "code")
        i += 1
    out.line("```")
    return out.answer()


def paragraph(size: int) -> MarkedAnswer:
    """One paragraph on one line, a marker every ~100 characters."""
    rng, out = random.Random(11), _Writer()
    while out.size < size:
        words = " ".join(rng.choice(WORDS) for _ in range(16))
        out.line(words.capitalize() + ", and", "para", end=" ")
    out.line("that is all.")
    return out.answer()


SHAPES: dict[str, Callable[[int], MarkedAnswer]] = {
    "mixed": mixed,
    "table": table,
    "code": code,
    "paragraph": paragraph,
}


def pieces_with_markers(answer: MarkedAnswer, pieces: list[str]) -> Iterator[tuple[str, int]]:
    """Each marker and the index of the streamed piece that completes it."""
    end, index = 0, -1
    for marker, _, offset in answer.markers:
        while end < offset:
            index += 1
            end += len(pieces[index])
        yield marker, index
