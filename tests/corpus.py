"""Realistic LLM answers for the fidelity check in JupyterLab (tests/test_browser.py): math in
every delimiter style, tables, numbered steps split by code blocks, nested and task lists,
footnotes, HTML, currency, and a 20 KB and a 100 KB answer."""

from __future__ import annotations

from chatnb.mock.replies import markdown_sample

ANSWERS: dict[str, str] = {
    "quadratic, display $$": (
        "To solve $ax^2 + bx + c = 0$, complete the square:\n\n"
        "$$\nx = \\frac{-b \\pm \\sqrt{b^2 - 4ac}}{2a}\n$$\n\n"
        "The discriminant $\\Delta = b^2 - 4ac$ decides how many real roots there are.\n"
    ),
    "gpt brackets": (
        "The Gaussian integral is\n\n\\[\n\\int_{-\\infty}^{\\infty} e^{-x^2}\\,dx = \\sqrt{\\pi}\n\\]\n\n"
        "and with \\(a > 0\\) it scales as \\(\\sqrt{\\pi / a}\\).\n"
    ),
    "display with list-like lines": (
        "Expand it:\n\n$$\nf(x) = x^2\n- 2x + 1\n+ 3\n$$\n\nso the minimum is at $x = 1$.\n"
    ),
    "aligned with a blank line": (
        "Step by step:\n\n\\[\n\\begin{aligned}\n(a+b)^2 &= (a+b)(a+b) \\\\\n\n"
        "&= a^2 + 2ab + b^2\n\\end{aligned}\n\\]\n\nWhich is the binomial formula.\n"
    ),
    "align environment": (
        "\\begin{align}\n\\nabla \\cdot E &= \\rho / \\varepsilon_0 \\\\\n"
        "- \\nabla \\times E &= \\partial_t B\n\\end{align}\n\nThese are two of Maxwell's equations.\n"
    ),
    "currency": (
        "The plan costs $20 a month, or $200 a year.\n\n"
        "- Rent is $1,200 a month\n- food: $300\n- total: about $1,500\n\n"
        "With $x$ months you pay $20x$ dollars.\n"
    ),
    "currency table": (
        "| Plan | Monthly | Yearly |\n|---|---:|---:|\n| Basic | $5 | $50 |\n"
        "| Pro | $20 | $200 |\n| Team | $99 | $990 |\n\nPrices exclude tax.\n"
    ),
    "math in a table": (
        "| Function | Derivative |\n|---|---|\n| $x^n$ | $n x^{n-1}$ |\n"
        "| $\\sin x$ | $\\cos x$ |\n| $e^x$ | $e^x$ |\n"
    ),
    "inline math with braces": (
        "Bayes: $P(A \\mid B) = \\frac{P(B \\mid A) P(A)}{P(B)}$, where $P(B) > 0$.\n\n"
        "For sets, $\\{x \\in \\mathbb{R} : x > 0\\}$ is the positive reals.\n"
    ),
    "left bracket trigger": (
        "The interval is $\\left[ 0, 1 \\right]$ and the error is $[3.9, 4.5]$.\n\n"
        "More text follows.\n\nAnd more.\n"
    ),
    "numbered steps split by code": (
        "1. Create a virtual environment:\n\n```bash\npython -m venv .venv\n```\n\n"
        "2. Activate it:\n\n```bash\nsource .venv/bin/activate\n```\n\n"
        "3. Install the package:\n\n```bash\npip install chatnb\n```\n"
    ),
    "numbered steps with indented code": (
        "1. Install:\n\n   ```bash\n   pip install numpy\n   ```\n\n"
        "2. Import it:\n\n   ```python\n   import numpy as np\n   ```\n\n"
        "3. Check the version with `np.__version__`.\n"
    ),
    "nested lists": (
        "- Fruit\n  - Apples\n    - Granny Smith\n    - Fuji\n  - Pears\n- Vegetables\n"
        "  1. Carrots\n  2. Leeks\n\n- Grains\n"
    ),
    "task list": (
        "Release checklist:\n\n- [x] Tests pass\n- [x] Changelog updated\n- [ ] Tag pushed\n"
        "- [ ] Announcement\n\nAfter that, close the milestone.\n"
    ),
    "footnotes": (
        "Transformers[^1] replaced recurrent networks in most NLP tasks[^2].\n\n"
        "Attention is computed in parallel.\n\n[^1]: Vaswani et al., 2017.\n[^2]: Mostly.\n"
    ),
    "reference link defined at the end": (
        "See [the documentation][docs] and the [FAQ].\n\nIt covers setup and usage.\n\n"
        "Everything else is in the issues.\n\n[docs]: https://example.com/docs\n"
        "[FAQ]: https://example.com/faq\n"
    ),
    "callout": (
        "> [!NOTE]\n> This API is experimental.\n\n> [!WARNING]\n> It may change.\n\n"
        "Use it with care.\n"
    ),
    "harmless html": (
        "Press <kbd>Ctrl</kbd>+<kbd>C</kbd> to copy. Water is H<sub>2</sub>O; "
        "E = mc<sup>2</sup>.<br>A new line.\n\n"
        "<details>\n<summary>More</summary>\n\nHidden **details** here.\n\n</details>\n"
    ),
    "details with code": (
        "Here is the solution; expand it for the code.\n\n<details>\n<summary>Show the code"
        "</summary>\n\n```python\ndef middle(a, b):\n    return (a + b) / 2\n```\n\n"
        "Run it with `middle(1, 3)`.\n\n</details>\n\nThe answer is **2**.\n"
    ),
    "table with br": (
        "| Step | Notes |\n|---|---|\n| 1 | first<br>second |\n| 2 | **bold** and `code` |\n"
    ),
    "code spans with dollars and angles": (
        "In Rust, `Vec<T>` grows; in bash, `echo $HOME` prints it; in PHP, `$x = 1;`.\n\n"
        "Math still works: $a < b$ and $b > c$.\n"
    ),
    "code block with dollars": (
        '```bash\nfor f in *.txt; do\n  echo "$f costs $5"\ndone\n```\n\n'
        "```latex\n\\[ x^2 \\]\n```\n\nThat is all.\n"
    ),
    "headings and rules": (
        "# Title\n\nIntro paragraph.\n\n## Section\n\nText.\n\n---\n\n### Subsection\n\n"
        "Setext heading\n==============\n\nEnd.\n"
    ),
    "blockquote with list": (
        "> A quote with a list:\n>\n> 1. one\n> 2. two\n>\n> and a closing line.\n\n"
        "Outside the quote.\n"
    ),
    "loose and tight lists": (
        "Tight:\n\n- a\n- b\n- c\n\nLoose:\n\n- a\n\n- b\n\n- c\n\n"
        "Numbered from 3:\n\n3. three\n4. four\n"
    ),
    "emphasis across lines": (
        "This is **bold text\nthat spans lines** and *italic\ntoo*.\n\nThen ~~struck~~ text.\n"
    ),
    "long table": "| n | square | cube |\n|---:|---:|---:|\n"
    + "".join(f"| {n} | {n * n} | {n**3} |\n" for n in range(1, 120)),
    "physics": (
        "The Schrödinger equation:\n\n$$i\\hbar \\frac{\\partial}{\\partial t}\\Psi = "
        "\\hat{H}\\Psi$$\n\nFor a free particle, $\\hat H = -\\frac{\\hbar^2}{2m}\\nabla^2$, "
        "and plane waves \\(e^{i(kx - \\omega t)}\\) solve it with \\(\\omega = \\hbar k^2 / 2m\\).\n"
    ),
    "statistics": (
        "The sample mean is $\\bar x = \\frac{1}{n}\\sum_{i=1}^n x_i$ and the variance\n\n"
        "$$\ns^2 = \\frac{1}{n-1}\\sum_{i=1}^n (x_i - \\bar x)^2\n$$\n\n"
        "| Statistic | Formula |\n|---|---|\n| mean | $\\bar x$ |\n| sd | $s$ |\n\n"
        "A 95% interval is $\\bar x \\pm 1.96\\, s/\\sqrt n$.\n"
    ),
    "double backslash delimiters": (
        "JSON-escaped math: \\\\(x^2\\\\) and\n\n\\\\[\ny = mx + b\n\\\\]\n\nstill render.\n"
    ),
    "mixed everything": (
        "## Summary\n\n1. **Cost**: about $40 per run\n2. **Time**: $t = O(n \\log n)$\n\n"
        "```python\nprice = 40  # $\n```\n\n> Note: \\(n\\) is the input size.\n\n"
        "- [ ] verify\n- [x] measure[^m]\n\n[^m]: on 2 cores.\n"
    ),
    "20 KB answer": markdown_sample(20_000, 11),
    "100 KB answer": markdown_sample(100_000, 12),
}
