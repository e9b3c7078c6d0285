"""Math in answers: where the frontend finds it, how chatnb rewrites it for display, and that
streaming never cuts through it. The oracles: mdit-py-plugins' dollarmath (pandoc's rule for
``$``) for what is math, and, in tests/test_browser.py, JupyterLab itself."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from chatnb.markdown import split
from chatnb.markdown.math_text import frontend_math, math_scan, rewrite_math

REWRITES = {
    r"Euler: \(e^{i\pi} + 1 = 0\).": "Euler: $e^{i\\pi} + 1 = 0$.",
    "So\n\\[\n\\int_0^1 x\\,dx = \\tfrac12\n\\]\nholds.": "So\n$$\n\\int_0^1 x\\,dx = \\tfrac12\n$$\nholds.",
    "$$\na = 1\n\nb = 2\n$$": "$$\na = 1\nb = 2\n$$",
    "\\begin{align}\na &= 1 \\\\\n\nb &= 2\n\\end{align}": "\\begin{align}\na &= 1 \\\\\nb &= 2\n\\end{align}",
    "It costs $5 to $10.": "It costs \\$5 to \\$10.",
    "Rent is $1,200 a month\n- food: $300": "Rent is \\$1,200 a month\n- food: \\$300",
    "From $x$ to $y$, $5 each.": "From $x$ to $y$, \\$5 each.",
    "Use `$x` and `\\(y\\)` as they are.": "Use `$x` and `\\(y\\)` as they are.",
    "```bash\necho $HOME \\(x\\)\n```\n": "```bash\necho $HOME \\(x\\)\n```\n",
    "1. Run\n\n   ```sh\n   echo $PATH\n   ```\n": "1. Run\n\n   ```sh\n   echo $PATH\n   ```\n",
    "    indented $code$ \\(x\\)\n": "    indented $code$ \\(x\\)\n",
    "Brackets \\(\\) stay.": "Brackets \\(\\) stay.",
    "Already \\$5 escaped.": "Already \\$5 escaped.",
}


@pytest.mark.parametrize("answer", list(REWRITES))
def test_math_is_rewritten_the_way_the_frontend_renders_it(answer: str) -> None:
    shown = "".join(part.markdown for part in split([answer], math=True))
    assert shown == REWRITES[answer]


def test_the_stored_text_stays_what_the_model_sent() -> None:
    answer = r"Euler: \(e^{i\pi}\) costs $5."
    parts = split(list(answer))
    assert "".join(p.source for p in parts) == answer
    assert "".join(p.markdown for p in split([answer], math=False)) == answer


def test_the_frontend_model_pairs_as_jupyterlab_does() -> None:
    # Cases read off rendermime's removeMath: a blank line ends math, a closer inside
    # unbalanced braces waits, "$" in code is no delimiter, two backslashes open \\( math.
    assert frontend_math("$a$ and $$b$$").spans == ((0, 3), (8, 13))
    assert frontend_math("$a\n\nb$").spans == ()
    assert frontend_math("$a\n\nb$").open_at == 5  # the second "$" opens, unclosed
    assert frontend_math("`$a` $b$").spans == ((5, 8),)
    assert frontend_math("\\\\(x\\\\) and \\(y\\)").spans == ((0, 7),)
    assert frontend_math("${a$ b}$").spans == ((0, 8),)  # the first "$" waits for the brace
    assert frontend_math("\\begin{align}x\\end{align}").spans == ((0, 25),)
    assert frontend_math("$x").open_at == 0  # more text may close it


# Inline math as dollarmath finds it with pandoc's rule (no space inside the delimiters, no
# digit after the closer), written as sentences an answer would hold.
SENTENCES = [
    "The area is $\\pi r^2$ and costs $5.",
    "Pay $20 now and $30 later.",
    "Between $a$ and $b$ lies $c$.",
    "A price of $3.50 and a variable $x_1$.",
    "Bad $ x $ spacing is not math, $y$ is.",
    "Closer then digit $a$1 is not math.",
    "Two $$a+b$$ inline.",
    "$$x$$ and $y$ and 50$.",
    "Escaped \\$ and real $z$.",
    "$5, $6 and $7",
]


def _dollarmath(text: str) -> list[str]:
    md = MarkdownIt("commonmark").use(
        dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True
    )
    return [
        child.content
        for token in md.parse(text)
        for child in token.children or ()
        if child.type.startswith("math_inline")
    ]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_inline_math_is_what_pandocs_rule_says(sentence: str) -> None:
    found = [sentence[start:end].strip("$") for start, end in math_scan(sentence).spans]
    assert found == _dollarmath(sentence)


# Without code: rewrite_math's default code ranges are the frontend's, and slicing the meant
# math out of its sentence would lose what code hides.
CODE_FREE = [s for s in SENTENCES + list(REWRITES) if "`" not in s and "    " not in s]


@pytest.mark.parametrize("sentence", CODE_FREE)
def test_after_the_rewrite_the_frontend_finds_exactly_the_meant_math(sentence: str) -> None:
    shown = rewrite_math(sentence)
    meant = [rewrite_math(sentence[a:b]) for a, b in math_scan(sentence).spans]
    found = [shown[a:b] for a, b in frontend_math(shown).spans]
    assert found == meant


ATOMS = [
    "$$\nf(x) = x^2\n- 2x + 1\n$$\n",
    "\\[\n\\begin{aligned}\na &= b \\\\\n\n+ c &= d\n\\end{aligned}\n\\]\n",
    "Inline $x + 1$ and \\(y\\) here.\n",
    "It costs $5 to $10.\n",
    "> quoted $a$\n",
    "1. step $k$\n",
    "- item\n",
    "# Heading $h$\n",
    "| a | $b$ |\n|---|---|\n| 1 | 2 |\n",
    "```python\nx = '$'\n```\n",
    "\n",
    "Text\n",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(ATOMS), min_size=1, max_size=12), st.randoms())
def test_streamed_parts_show_the_math_of_the_whole(atoms: list[str], rnd: object) -> None:
    text = "".join(atoms)
    cuts = sorted(rnd.sample(range(1, len(text)), min(len(text) - 1, 8)))  # type: ignore[attr-defined]
    chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    parts = split(chunks)
    whole = rewrite_math(text)
    assert "".join(p.markdown for p in parts) == whole
    # The frontend renders each part on its own: it must find the math it finds in the whole.
    separately = [p.markdown[a:b] for p in parts for a, b in frontend_math(p.markdown).spans]
    assert separately == [whole[a:b] for a, b in frontend_math(whole).spans]


def test_a_code_block_that_starts_past_a_cut_is_not_looked_for_in_the_part() -> None:
    # Found by the test above: the part before a cut was searched for code with the parse of
    # the longer text, and a fence starting two lines past the cut raised an IndexError.
    text = "```$`\n1. $\n.\n```\n"
    parts = split([text])
    assert "".join(p.source for p in parts) == text
    assert "".join(p.markdown for p in parts) == rewrite_math(text)


def test_a_cut_never_falls_inside_math_while_streaming() -> None:
    text = "Intro.\n\n$$\nf(x) = x^2\n- 2x + 1\n# not a heading\n$$\n\nAfter.\n"
    parts = split(list(text))
    assert [p.source for p in parts] == [
        "Intro.\n\n",
        "$$\nf(x) = x^2\n- 2x + 1\n# not a heading\n$$\n\n",
        "After.\n",
    ]
