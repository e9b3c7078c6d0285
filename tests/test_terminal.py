"""The terminal: Markdown rendered by rich where output is a terminal, plain text elsewhere, and
never an escape sequence of the model's.

What a terminal finally shows is read through :func:`screen`, a small model of a terminal
that applies the few controls rich's live region sends (carriage return, cursor up, erase
line), so frames of the live region that were drawn and erased do not count.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chatnb import Chatbot
from chatnb.display import TextSink, auto_sink
from chatnb.display.sinks import terminal_sink
from chatnb.display.terminal import printable
from chatnb.display.terminal_views import TerminalReasoning, TerminalToolCalls
from chatnb.events import (
    ReasoningDelta,
    ToolCallArgumentsDelta,
    ToolCallDone,
    ToolCallResult,
    ToolCallStarted,
)

rich = pytest.importorskip("rich")
from rich.console import Console  # noqa: E402

from chatnb.display.rich_terminal import RichSink, _window  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
_CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x1b\x07]*(?:\x07|\x1b\\)")


def screen(raw: str) -> list[str]:
    """The lines a terminal shows after ``raw`` (scrollback included), styles dropped."""
    lines, row, col = [""], 0, 0
    for piece in re.split(r"(\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x1b\x07]*(?:\x07|\x1b\\)|\r|\n)", raw):
        control = _CSI.fullmatch(piece)
        if piece == "\n":
            row, col = row + 1, 0
            if row == len(lines):
                lines.append("")
        elif piece == "\r":
            col = 0
        elif control and control.group(2) == "A":
            row = max(row - int(control.group(1) or 1), 0)
        elif control and control.group(2) == "K":
            lines[row] = ""
        elif not control and piece:
            line = lines[row].ljust(col)
            lines[row] = line[:col] + piece + line[col + len(piece) :]
            col += len(piece)
    return [line.rstrip() for line in lines]


def rich_console(width: int = 72) -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=width, height=30)


def raw(console: Console) -> str:
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


ANSWER = (
    "# A heading\n\nSome **bold** words and `code`, and [a link](https://example.com/a).\n\n"
    "```python\ndef f(x):\n    return x\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n- two\n"
)


def test_rich_renders_the_answer_as_it_streams_and_settles_rendered() -> None:
    console = rich_console()
    sink = RichSink(console, auto_refresh=False)
    bot = Chatbot.mock(ANSWER, display=sink, chunking="chars")
    assert bot.ask("Show me Markdown.") == ANSWER
    shown = "\n".join(screen(raw(console)))
    assert "A heading" in shown and "# A heading" not in shown
    assert "Some bold words and code" in shown  # no ** nor backticks left
    assert "**" not in shown and "```" not in shown and "|---" not in shown
    assert "def f(x):" in shown and "a link (https://example.com/a)" in shown
    assert "• one" in shown
    assert "\x1b[1m" in raw(console)  # bold, by the terminal
    assert re.search(r"\(\d+ \+ \d+ tokens", shown)  # the usage line under the answer


def test_finished_blocks_are_printed_once_and_the_open_block_redrawn() -> None:
    console = rich_console()
    sink = RichSink(console, auto_refresh=False)
    answer = sink.markdown_stream()
    blocks = [f"Paragraph number {i} with **bold** text.\n\n" for i in range(40)]
    for block in blocks:
        for word in re.findall(r"\S+\s*", block):
            answer.feed(word)
        answer.refresh()
    answer.close()
    lines = [line for line in screen(raw(console)) if line]
    assert lines == [f"Paragraph number {i} with bold text." for i in range(40)]
    assert answer.blocks >= 35  # printed as they finished, not all at the end
    assert answer.text == "".join(blocks)


def test_the_open_block_renders_only_its_end() -> None:
    code = "Intro.\n\n```python\n" + "".join(f"x{i} = {i}\n" for i in range(2_000))
    window = _window(code, 40, 4_000)
    assert window.startswith("```python\n") and window.endswith("x1999 = 1999\n")
    assert window.count("\n") == 41  # its opening line and the last 40
    table = "| a | b |\n|---|--:|\n" + "".join(f"| {i} | {i} |\n" for i in range(2_000))
    window = _window(table, 40, 4_000)
    assert window.startswith("| a | b |\n|---|--:|\n| 1960 |") and window.endswith("| 1999 |\n")
    paragraph = " ".join(f"word{i}" for i in range(2_000)) + "\n"
    window = _window(paragraph, 40, 500)
    assert window.startswith("word") and len(window) <= 500 and paragraph.endswith(window)
    assert _window("short\ntext", 40, 4_000) == "short\ntext"


HOSTILE = (
    "Hi \x1b[5mblink\x1b[0m \x1b]0;pwned title\x07 \x1b]8;;https://evil.example\x1b\\click"
    "\x1b]8;;\x1b\\ \x9b2J \x07bell over\rwritten [x](https://ok.example/\x1b[2J)\n"
)
ESCAPES = ("\x1b[5m", "\x1b]0;", "\x1b]8;;https://evil", "\x9b", "\x07", "\x1b[2J")


def _hostile_views(sink: TextSink | RichSink) -> None:
    reasoning, tools = TerminalReasoning(sink), TerminalToolCalls(sink)
    reasoning.handle(ReasoningDelta(0, HOSTILE, "reasoning"))
    reasoning.close()
    name = "get\x1b]0;pwned\x07"
    tools.handle(ToolCallStarted(0, 0, "c1", name))
    tools.handle(ToolCallArgumentsDelta(0, 0, '{"a": "\x1b[5m"}'))
    tools.handle(ToolCallDone(0, 0, "c1", name, '{"a": "\x1b[5m"}'))
    tools.handle(ToolCallResult(0, 0, "c1", name, HOSTILE, True, 0.01))
    sink.note(HOSTILE)
    sink.show(HOSTILE)


@pytest.mark.parametrize("kind", ["plain", "rich"])
def test_the_model_cannot_send_escape_sequences_to_the_terminal(kind: str) -> None:
    console = rich_console()
    buffer = io.StringIO()
    sink = TextSink(buffer) if kind == "plain" else RichSink(console, auto_refresh=False)
    _hostile_views(sink)
    bot = Chatbot.mock(HOSTILE * 3, display=sink, chunking="chars")
    bot.ask("Say something nasty.")
    out = buffer.getvalue() if kind == "plain" else raw(console)
    for escape in ESCAPES:
        assert escape not in out
    assert "␛[5mblink" in out and "␛]0;pwned" in out  # shown, as text
    if kind == "plain":
        assert "\x1b" not in out and "\r" not in out
    assert bot.history.last.content == HOSTILE * 3  # type: ignore[union-attr]  # kept as sent


def test_printable_keeps_text_and_shows_controls() -> None:
    text = "tab\tnew\nline é ü 😀 ─"
    assert printable(text) == text
    assert printable("a\x1bb\x00c\x7fd\x9be\r\n") == "a␛b␀c␡d\ufffde\n"


def test_the_terminal_is_chosen_by_where_output_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHATNB_TERMINAL", raising=False)
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # a pipe, a file: not a terminal
    assert isinstance(auto_sink(), TextSink)

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Tty())
    monkeypatch.setenv("TERM", "xterm-256color")
    assert isinstance(terminal_sink(), RichSink)
    monkeypatch.setenv("CHATNB_TERMINAL", "plain")
    assert isinstance(terminal_sink(), TextSink)
    monkeypatch.setenv("CHATNB_TERMINAL", "")
    monkeypatch.setitem(sys.modules, "rich", None)  # the terminal extra is not installed
    assert isinstance(terminal_sink(), TextSink)


def test_a_script_piped_somewhere_prints_plain_text_without_the_rich_views() -> None:
    code = (
        "import sys\nfrom chatnb import Chatbot\n"
        "Chatbot.mock('# Title\\n\\nSome **bold** text').ask('hi')\n"
        # (openai 2.x may import rich itself: the claim is that chatnb's rich views are not used)
        "print('chatnb.display.rich_terminal' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}
    env.pop("CHATNB_TERMINAL", None)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert result.stdout == "# Title\n\nSome **bold** text\nFalse\n"


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_chatnb_demo_in_a_terminal_shows_rendered_markdown() -> None:
    import fcntl
    import pty
    import struct
    import termios

    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}
    for name in ("CHATNB_TERMINAL", "COLUMNS", "LINES", "NO_COLOR"):
        env.pop(name, None)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    command = [sys.executable, "-m", "chatnb", "demo", "--itl-ms", "0", "--length", "900"]
    process = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    received = bytearray()
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the demo ended and closed the terminal
            break
        if not chunk:
            break
        received += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0
    out = received.decode()
    shown = "\n".join(screen(out))
    assert "A sample answer" in shown and "# A sample answer" not in shown
    assert "**" not in shown and "```" not in shown
    assert "\x1b[1m" in out  # bold, rendered by the terminal
    assert re.search(r"\(\d+ \+ \d+ tokens", shown)


def test_reasoning_in_pieces_wraps_between_words() -> None:
    console = Console(file=io.StringIO(), width=30, force_terminal=True)
    sink = RichSink(console, auto_refresh=False)
    view = TerminalReasoning(sink)
    text = "The user wants streaming in a notebook; re-rendering the whole answer is quadratic."
    for i in range(0, len(text), 5):  # pieces that cut words
        view.handle(ReasoningDelta(0, text[i : i + 5], "reasoning"))
    view.close()
    lines = [line for line in screen(raw(console)) if line]
    assert " ".join(lines[:-1]) == "Thinking: " + text and lines[-1].startswith("(thought for")
    assert all(len(line) <= 30 for line in lines)
