"""A mkdocs hook: the docstrings' Sphinx roles (``:class:`~chatnb.cache.Cache```) as links,
and their doctest examples (``>>> ...``) as code.

chatnb's docstrings name other objects the way Sphinx does; Markdown renders such a role as
the role's name before a code span. This turns each into a cross-reference that mkdocs-autorefs
resolves (a link to the object's reference, or plain code when the object is not documented),
and ``~`` shows only the last part of the name, as in Sphinx. Markdown reads ``>>>`` as three
nested quotes: those become a code block again, without doctest's directives.
"""

from __future__ import annotations

import re
from typing import Any

ROLE = re.compile(
    r":(?:py:)?(?:class|mod|meth|func|attr|data|exc|obj|const):<code>(~?)([^<]+)</code>"
)


def _reference(match: re.Match[str]) -> str:
    short, target = match.group(1), match.group(2).strip()
    shown = target.rsplit(".", 1)[-1] if short else target
    if not re.fullmatch(r"[A-Za-z_][\w.]*", target):
        return f"<code>{shown}</code>"
    return f'<autoref identifier="{target}" optional><code>{shown}</code></autoref>'


DOCTEST = re.compile(
    r"<blockquote>\s*<blockquote>\s*<blockquote>\s*<p>(.*?)</p>\s*"
    r"</blockquote>\s*</blockquote>\s*</blockquote>",
    re.S,
)
DIRECTIVE = re.compile(r"\s*# doctest: \+\w+$")


def _example(match: re.Match[str]) -> str:
    lines = [DIRECTIVE.sub("", line) for line in match.group(1).splitlines()]
    return "<pre><code>" + "\n".join(f"&gt;&gt;&gt; {line}" for line in lines) + "</code></pre>"


def on_page_content(html: str, **kwargs: Any) -> str:
    return DOCTEST.sub(_example, ROLE.sub(_reference, html))
