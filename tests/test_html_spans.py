"""HTML elements that span Markdown blocks: where a cut would split them."""

from __future__ import annotations

import pytest

from chatnb.markdown.html_spans import element_spans


@pytest.mark.parametrize(
    ("blocks", "spans"),
    [
        # <details> opened in one HTML block, closed in another: cuts inside split it.
        ([(0, "<details>\n<summary>S</summary>\n"), (6, "</details>\n")], [(0, 6)]),
        # Opened and closed in one block: nothing spans.
        ([(0, "<div>\n<b>x</b>\n</div>\n")], []),
        # Not closed yet.
        ([(2, '<DIV align="center">\n')], [(2, None)]),
        # Nested: the inner one closes first, the outer later.
        (
            [(0, "<details>\n"), (2, "<div>\n"), (4, "</div>\n"), (6, "</details>\n")],
            [(2, 4), (0, 6)],
        ),
        # A closer closes what is still open inside it too.
        ([(0, "<section>\n<div>\n"), (3, "</section>\n")], [(0, 3), (0, 3)]),
        # Void elements, self-closed ones and optional end tags hold nothing.
        ([(0, "<br>\n<img src=a>\n<p>para\n<li>x\n<td>y\n<span/>\n")], []),
        # A stray closer is ignored, as the browser ignores it.
        ([(0, "</div>\n"), (2, "<div>\n"), (4, "</div>\n")], [(2, 4)]),
        # Tags inside a comment are no tags.
        ([(0, "<!-- <div> -->\n"), (2, "text\n")], []),
    ],
)
def test_elements_that_span_blocks(
    blocks: list[tuple[int, str]], spans: list[tuple[int, int | None]]
) -> None:
    assert element_spans(blocks) == spans
