"""The README works as written: each Python block runs (on the mock, or against a local server
that streams the way its provider does), and the Quickstart's first command, run in a copy of
this repository with a fresh virtual environment, shows an answer."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from chatnb.stream import SSEDecoder, StreamAccumulator, iter_chunks

from .servers import RecordingServer

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
DIALECTS = ROOT / "tests" / "fixtures" / "dialects"
EXPECTED = json.loads((DIALECTS / "expected.json").read_text())
OPENAI_PLAIN = next((ROOT / "tests" / "fixtures" / "openai-recordings").glob("e2aad469*.bin"))


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


# How each block runs: a marker that picks it out, the stream its stand-in serves, the address
# the block names that the stand-in takes the place of, and the environment it reads.
RECIPES: dict[str, dict[str, Any]] = {
    "mock": {"marker": "Chatbot.mock(MarkdownSample", "stream": None},
    "tools": {"marker": "response_format=City", "stream": None},
    "responses": {"marker": 'api="responses"', "stream": None},
    "openai": {
        "marker": 'Chatbot("gpt-4o-mini"',
        "stream": OPENAI_PLAIN,
        "env": {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": "{url}"},
    },
    "azure": {
        "marker": "YOUR-RESOURCE",
        "stream": DIALECTS / "azure.sse",
        "address": "https://YOUR-RESOURCE.openai.azure.com",
        "replacement": "{root}",  # Azure's client adds the /openai/deployments/... path
        "env": {"AZURE_OPENAI_API_KEY": "azure-key"},
    },
    "local": {
        "marker": "localhost:11434",
        "stream": DIALECTS / "ollama.sse",
        "address": "http://localhost:11434/v1",
    },
    "openrouter": {
        "marker": "openrouter.ai",
        "stream": DIALECTS / "openrouter.sse",
        "address": "https://openrouter.ai/api/v1",
        "env": {"OPENROUTER_API_KEY": "sk-or-test"},
    },
}


def _content(recording: Path) -> str:
    """The answer a recorded stream carries, read with chatnb's own reader."""
    accumulator = StreamAccumulator()
    for chunk in iter_chunks(SSEDecoder().feed(recording.read_bytes())):
        accumulator.add(chunk)
    return accumulator.text()


def _recipe(block: str) -> str:
    (name,) = [name for name, recipe in RECIPES.items() if recipe["marker"] in block]
    return name


def test_every_python_block_has_a_way_to_run() -> None:
    names = [_recipe(block) for block in _blocks("python")]
    assert sorted(names) == sorted(RECIPES)


@pytest.mark.parametrize("block", _blocks("python"), ids=_recipe)
def test_each_python_block_runs(
    block: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = RECIPES[_recipe(block)]
    if recipe["stream"] is None:
        namespace: dict[str, Any] = {}
        exec(compile(block, "README.md", "exec"), namespace)
        history, shown = namespace["bot"].history, capsys.readouterr().out
        if _recipe(block) == "mock":
            assert len(history) == 4 and shown.count("# A sample answer") == 2
        elif _recipe(block) == "responses":  # asked through /v1/responses, and answered
            assert namespace["bot"].api == "responses" and len(history) == 2 and shown.strip()
        else:  # the tool call ran, its result reached the answer, and a City came back
            roles = [m.role for m in history]
            assert roles == ["user", "assistant", "tool", "assistant", "user", "assistant"]
            assert "→ get_weather" in shown and '"sky":"clear"' in str(history[3].content)
            namespace["City"].model_validate_json(history[-1].content)  # raises if not a City
        return
    with RecordingServer(recipe["stream"].read_bytes()) as server:
        root = server.url.removesuffix("/v1")
        for name, value in recipe.get("env", {}).items():
            monkeypatch.setenv(name, value.format(url=server.url))
        code = block.replace(
            recipe.get("address", "\0"), root if "azure" in str(recipe["stream"]) else server.url
        )
        namespace = {}
        exec(compile(code, "README.md", "exec"), namespace)
    answer = namespace["bot"].history[-1].content
    stream = recipe["stream"].name
    assert answer == EXPECTED.get(stream, {}).get("content", _content(recipe["stream"]))
    (request,) = server.requests
    if "azure" in stream:
        assert request.path.startswith("/openai/deployments/gpt-4o/chat/completions?api-version=")
        assert request.headers["api-key"] == "azure-key"
    else:
        assert request.headers["authorization"].startswith("Bearer ")


@pytest.mark.environment
@pytest.mark.timeout(1200)
def test_the_quickstart_shows_an_answer_in_a_fresh_environment(tmp_path: Path) -> None:
    first = _blocks("bash")[0].strip()
    assert first.endswith("chatnb demo")
    copy = tmp_path / "chatnb"
    ignore = shutil.ignore_patterns(".venv", ".ci-venv", "build", ".git", "*.egg-info", ".*cache")
    shutil.copytree(ROOT, copy, ignore=ignore)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    shown = subprocess.run(
        ["bash", "-c", first], cwd=copy, env=env, capture_output=True, text=True, timeout=1100
    )
    assert shown.returncode == 0, shown.stdout[-2000:] + shown.stderr[-2000:]
    assert "## Streaming an answer" in shown.stdout  # the built-in answer to the demo question
    assert re.search(r"\(\d+ \+ \d+ tokens, [\d.]+ s", shown.stdout)
