"""Checks written once: a verdict in the cell, and a pytest test that replays the experiment
from its cache with no key and nothing listening, failing with a readable report. Prompt
versions by content hash, and the diff against a baseline that shows them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from chatnb import Chatbot, experiment
from chatnb.errors import ExpectationError
from chatnb.experiments import checks, contains
from chatnb.experiments.versions import prompt_versions

from .conftest import chatnb_serve

ROOT = Path(__file__).parents[1]

# The experiment and its checks, written once: the notebook (here, this test) and pytest
# (the subprocess below) import the same module.
SUITE = """
from chatnb import Chatbot
from chatnb.experiments import checks, contains

INPUTS = [f"What is the capital of {c}? {c}" for c in ["France", "Italy", "Peru", "Chile"]]
VARIANTS = [{"name": "v1", "system": "Answer."}, {"name": "v2", "system": "Answer briefly."}]
SCORERS = [contains("capital")]
CHECKS = [
    checks.pass_rate("contains 'capital'", at_least=0.3),
    checks.not_worse("v2", than="v1"),
    checks.cost(at_most=1.0),
]
FAILING = [checks.pass_rate("contains 'capital'", at_least=0.99)]

def bot(url, cache):
    return Chatbot("gpt-4o-mini", base_url=url, cache=cache, display=False)
"""

TESTS = """
from chatnb import experiment
import prompt_suite as suite

def run(chatnb_replay):
    bot = suite.bot(URL, CACHE)
    return chatnb_replay(experiment(suite.INPUTS, suite.VARIANTS, scorers=suite.SCORERS,
                                    bot=bot, display=False))

def test_the_prompt_holds(chatnb_replay):
    run(chatnb_replay).check(*suite.CHECKS).require()

def test_a_stricter_bar(chatnb_replay):
    run(chatnb_replay).check(*suite.FAILING).require()
"""


def test_checks_show_a_verdict_and_fail_in_words() -> None:
    bot = Chatbot.mock(display=False)
    inputs = [f"the capital is {c}" if n % 2 else c for n, c in enumerate("abcdefgh")]
    variants = [{"name": "v1"}, {"name": "v2", "system": "Be brief."}]
    results = asyncio.run(
        experiment(inputs, variants, scorers=[contains("capital")], bot=bot, display=False)
    )
    report = results.check(
        checks.pass_rate("contains 'capital'", at_least=0.1),
        checks.pass_rate("contains 'capital'", at_least=0.9, variant="v2"),
        checks.not_worse("v2", than="v1"),
        checks.latency(at_most_s=60),
        checks.no_failures(),
    )
    assert [o.passed for o in report] == [True, True, False, True, True, True, True, True]
    table = report._repr_markdown_()
    assert "**1 failed** (8 checks)" in table and "❌ | v2: contains" in table
    with pytest.raises(ExpectationError) as raised:
        report.require()
    assert isinstance(raised.value, AssertionError) and raised.value.report is report
    assert str(raised.value) == (
        "1 of 8 checks failed:\n- v2: contains 'capital' pass rate >= 90% with 95% confidence: "
        "50% of 8 inputs, 95% CI from 21.5%"
    )
    with pytest.raises(ValueError, match=r"No scorer is named 'contain'\. This experiment's"):
        results.check(checks.pass_rate("contain", at_least=0.5))


def test_the_same_checks_pass_under_pytest_replaying_with_nothing_listening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "prompt_suite.py").write_text(SUITE)
    sys.path.insert(0, str(tmp_path))
    try:
        import prompt_suite as suite  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(tmp_path))
    cache = tmp_path / "prompts.sqlite"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-recording")
    with chatnb_serve() as url:  # recorded once against a server ...
        bot = suite.bot(url, cache)
        recorded = asyncio.run(
            experiment(suite.INPUTS, suite.VARIANTS, scorers=suite.SCORERS, bot=bot, display=False)
        )
    assert recorded.check(*suite.CHECKS).passed  # the verdict in the cell
    # ... and replayed under pytest once it has stopped, with no key in the environment.
    header = f"URL = {url!r}\nCACHE = {str(cache)!r}\n"
    (tmp_path / "test_prompts.py").write_text(header + textwrap.dedent(TESTS))
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["chatnb.experiments.pytest_plugin"]\n')
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHATNB_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(tmp_path)])
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_prompts.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "1 failed, 1 passed" in ran.stdout, ran.stdout + ran.stderr
    assert "ExpectationError: 2 of 2 checks failed:" in ran.stdout
    assert (
        "v1: contains 'capital' pass rate >= 99% with 95% confidence: 100% of 4 inputs"
        in ran.stdout
    )
    assert "CacheMissError" not in ran.stdout and "APIConnectionError" not in ran.stdout


def test_prompt_versions_are_kept_by_hash_and_diffed_beside_the_answers(tmp_path: Path) -> None:
    cache = tmp_path / "runs.sqlite"
    bot = Chatbot.mock(display=False, cache=cache)
    inputs = [f"capital of {c}" for c in ("France", "Italy", "Peru")]

    def run(system: str, template: str, baseline: object = None) -> object:
        variant = [{"name": "main", "system": system}]
        return asyncio.run(
            experiment(inputs, variant, template=template, scorers=[contains("capital")],
                       bot=bot, display=False, baseline=baseline)
        )  # fmt: skip

    first = run("Be terse.", "{input}")
    again = run("Be terse.", "{input}")
    second = run("Be kind.", "Q: {input}", baseline=first)
    assert first.prompts["main"]["hash"] == again.prompts["main"]["hash"]  # type: ignore[attr-defined]
    versions = prompt_versions(cache)
    assert len(versions) == 2 and versions[0]["system"] == "Be terse."
    assert versions[0]["variants"] == ["main"] and len(versions[0]["runs"]) == 2
    text = versions.diff(versions[0]["hash"], versions[1]["hash"])
    assert "-  Be terse.\n+  Be kind." in text and "+  Q: {input}" in text
    diff = second.diff(first)  # type: ignore[attr-defined]
    shown = diff._repr_markdown_()
    assert "**Prompt of main**" in shown and "```diff\n--- before (" in shown
    assert "3 trials changed" in shown and "| capital of France | Q: capital of France |" in shown
    assert "no difference between this run and the baseline: the same on all 3 inputs" in shown
    saved = first.save(tmp_path / "first.json")  # type: ignore[attr-defined]
    assert second.diff(saved).prompts() == diff.prompts()  # type: ignore[attr-defined]
