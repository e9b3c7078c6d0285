"""The %pip install path: the built wheel, in a clean environment, runs the quickstart notebook.

The wheel is built from this tree, installed with its dependencies from the registry into a
fresh virtual environment (nothing of the source tree is importable there), registered as a
Jupyter kernel in a private folder, and nbval executes the quickstart notebook in that kernel
with the same strict comparison as the rest of the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
KERNEL = "chatnb-wheel-test"


def run(*command: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, env=env, cwd=cwd
    )
    if result.returncode != 0:
        raise AssertionError(f"{command} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, ROOT)
    (built,) = dist.glob("chatnb-*.whl")
    return built


@pytest.mark.timeout(1200)
def test_the_wheel_runs_the_quickstart_in_a_fresh_environment(tmp_path: Path, wheel: Path) -> None:
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", f"chatnb[offline] @ {wheel.as_uri()}", "ipykernel")

    # Imported from the wheel, not from this tree.
    where = run(python, "-c", "import chatnb; print(chatnb.__file__)", cwd=tmp_path)
    assert where.startswith(str(env_dir)), where

    kernels = tmp_path / "jupyter"
    run(python, "-m", "ipykernel", "install", "--prefix", kernels, "--name", KERNEL)
    spec = json.loads((kernels / "share/jupyter/kernels" / KERNEL / "kernel.json").read_text())
    assert spec["argv"][0] == str(python)

    env = {**os.environ, "JUPYTER_PATH": str(kernels / "share" / "jupyter")}
    report = run(
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
        "--nbval", "--nbval-kernel-name", KERNEL,
        "--nbval-sanitize-with", ROOT / "notebooks" / "sanitize.cfg",
        ROOT / "notebooks" / "01_quickstart.ipynb",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert " passed" in report and "failed" not in report, report


OPENAI_2_CHECK = """
import asyncio, openai, chatnb.openai_private
from chatnb import Chatbot
bot = Chatbot.mock("Hello from the mock.", display=False)
assert bot.ask("hi") == "Hello from the mock."
assert asyncio.run(bot.aask("again")) == "Hello from the mock."
print(openai.__version__, chatnb.openai_private.library().__name__)
"""


@pytest.mark.timeout(1200)
def test_installing_next_to_openai_2_leaves_it_there(tmp_path: Path, wheel: Path) -> None:
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", "openai<3")
    run(python, "-m", "pip", "install", "-q", f"chatnb @ {wheel.as_uri()}")
    version, library = run(python, "-c", OPENAI_2_CHECK, cwd=tmp_path).split()
    assert version.startswith("2.") and library == "httpx"
