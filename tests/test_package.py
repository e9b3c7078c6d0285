"""The package as a user meets it: a light import, the public names, lint and types."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import chatnb

ROOT = Path(__file__).parent.parent


def test_import_is_light() -> None:
    code = (
        "import sys, chatnb; chatnb.History; chatnb.Chatbot; import chatnb.mock; "
        "print(__import__('json').dumps(sorted(sys.modules)))"
    )
    loaded = set(
        json.loads(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
    )
    for heavy in ("fastapi", "uvicorn", "ipywidgets", "markdown_it", "IPython", "starlette"):
        assert heavy not in loaded, heavy


def test_public_names_resolve() -> None:
    for name in chatnb.__all__:
        assert getattr(chatnb, name) is not None
    with pytest.raises(AttributeError):
        chatnb.NoSuchThing  # noqa: B018


def test_the_public_face_is_small() -> None:
    """What the README, the guide and the notebooks use, and the error tree's roots."""
    assert len(chatnb.__all__) <= 25
    assert {"Chatbot", "ChatnbError", "ChatnbWarning", "tool", "experiment"} <= set(chatnb.__all__)
    assert dir(chatnb) == chatnb.__all__


def test_a_name_moved_off_the_face_warns_and_is_the_same_object() -> None:
    import importlib

    from chatnb import _moved

    assert _moved(), "no moved names to check"
    for name, module in _moved().items():
        assert name not in chatnb.__all__
        with pytest.warns(
            DeprecationWarning,
            match=rf"chatnb\.{name} is deprecated; import it "
            rf"from chatnb\.{module}$",
        ):
            value = getattr(chatnb, name)
        assert value is getattr(importlib.import_module(f"chatnb.{module}"), name)


def test_cli_help() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "chatnb.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for option in (
        "--host",
        "--port",
        "--reply",
        "--ttft-ms",
        "--itl-ms",
        "--api-key",
        "--workers",
    ):
        assert option in shown


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff not installed",
)
def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run(
        [ruff, "check", "chatnb", "tests", "benchmarks", "notebooks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
