"""The slow tier is marked from what a test uses (tests/conftest.py), not by memory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import _tiers, chatnb_serve


class _Item:
    """What the marking reads of a collected test."""

    def __init__(
        self,
        function: Callable[..., Any] | None = None,
        fixtures: tuple[str, ...] = (),
        path: str = "tests/test_something.py",
        marks: tuple[str, ...] = (),
    ) -> None:
        self.function, self.fixturenames, self.path = function, fixtures, Path(path)
        self.marks = marks

    def get_closest_marker(self, name: str) -> str | None:
        return name if name in self.marks else None


def _pure() -> None:
    assert 1 + 1 == 2


def _serving() -> None:
    with chatnb_serve() as url:
        assert url


@pytest.mark.parametrize(
    ("item", "tiers"),
    [
        (_Item(_pure), set()),
        (_Item(_pure, fixtures=("tmp_path", "magic_kernel", "kernel")), {"kernel"}),
        (_Item(_pure, fixtures=("browser", "server")), {"browser"}),
        (_Item(_pure, fixtures=("wheel",)), {"environment"}),
        (_Item(_serving), {"server"}),
        (_Item(None, path="notebooks/01_quickstart.ipynb"), {"kernel"}),
        (_Item(_pure, marks=("kernel",)), {"kernel"}),
    ],
    ids=["pure", "kernel fixture", "browser", "wheel", "chatnb serve", "notebook cell", "marked"],
)
def test_a_test_gets_the_tiers_of_what_it_starts(item: _Item, tiers: set[str]) -> None:
    assert _tiers(item) == tiers  # type: ignore[arg-type]


def test_this_session_marks_every_kernel_test_slow(request: pytest.FixtureRequest) -> None:
    # Vacuous in the fast tier (the kernel tests are deselected), checked in a full run.
    for item in request.session.items:
        if "kernel" in getattr(item, "fixturenames", ()):
            assert item.get_closest_marker("slow") is not None, item.nodeid
            assert item.get_closest_marker("kernel") is not None, item.nodeid
