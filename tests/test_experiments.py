"""Experiments: inputs x variants x repeats on the mock, scored and summarised; rate limits
against ``chatnb serve``; the Batch API through the official client; a baseline diff."""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas
import pytest
from pydantic import BaseModel

from chatnb import Chatbot, experiment
from chatnb.errors import ChatnbError
from chatnb.experiments import (
    Experiment,
    Throttle,
    Verdict,
    cases,
    contains,
    equals,
    judge,
    matches,
    valid_json,
)
from chatnb.experiments.stats import clustered_mean
from chatnb.experiments.throttle import parse_duration

from .conftest import chatnb_serve
from .fakes import FakeClock

CITIES = ["Paris", "Rome", "Oslo", "Lima", "Kyiv", "Quito"]


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_inputs_come_as_prompts_rows_or_a_dataframe() -> None:
    assert [c.prompt for c in cases(["a", "b"])] == ["a", "b"]
    rows = [{"city": "Paris", "expected": "FR"}]
    (case,) = cases(rows, "Where is {city}? {{json}}")
    assert case.prompt == "Where is Paris? {json}" and case.row["expected"] == "FR"
    frame = pandas.DataFrame({"prompt": ["x", "y"], "n": [1, 2]})
    assert [(c.index, c.prompt, c.row["n"]) for c in cases(frame)] == [(0, "x", 1), (1, "y", 2)]
    with pytest.raises(ChatnbError, match=r"names \{country\}, but row 0 has no such column"):
        cases(rows, "{country}")
    with pytest.raises(ChatnbError, match="template="):
        cases([{"city": "Paris"}])


class City(BaseModel):
    name: str


def test_built_in_scorers_and_a_broken_one() -> None:
    def broken(answer: str) -> float:
        raise ZeroDivisionError("oops")

    bot = Chatbot.mock(display=False)
    rows = [{"city": c, "expected": c.upper()} for c in CITIES[:2]]
    scorers = [equals(), contains("par"), matches(r"^R"), valid_json(City), broken]
    results = _run(experiment(rows, template="{city}", scorers=scorers, bot=bot, display=False))
    paris, rome = results
    assert paris.scores["equals expected"] == 1.0  # case-insensitive by default
    assert (paris.scores["contains 'par'"], rome.scores["contains 'par'"]) == (1.0, 0.0)
    assert (paris.scores["matches '^R'"], rome.scores["matches '^R'"]) == (0.0, 1.0)
    assert paris.scores["valid City"] == 0.0 and "Invalid JSON" in paris.reasons["valid City"]
    assert math.isnan(paris.scores["broken"])
    assert paris.reasons["broken"] == "the scorer failed: ZeroDivisionError: oops"


def test_a_judge_answers_through_structured_output() -> None:
    def grade(request: Any) -> dict[str, Any]:
        asked = request.messages[-1].content
        good = "Answer: Paris" in asked
        return {"reason": "names the capital" if good else "wrong city", "score": 5 if good else 2}

    grader = Chatbot.mock(grade, display=False)
    answers = Chatbot.mock(["Paris", "Lyon"], display=False)
    verdicts = judge("Names the capital of France.", bot=grader)
    results = _run(
        experiment(
            ["Capital of France?"], repeats=2, scorers=[verdicts], bot=answers, display=False
        )
    )
    assert sorted(t.scores["judge"] for t in results) == [0.25, 1.0]
    assert {t.reasons["judge"] for t in results} == {"names the capital", "wrong city"}
    assert Verdict.model_json_schema()["properties"]["score"]["maximum"] == 5


def test_a_grid_runs_every_trial_and_keeps_the_failed_ones() -> None:
    # Every 5th request fails with a 400, which the client does not retry.
    bot = Chatbot.mock(display=False, failure={"status": 400, "every": 5})
    variants = [{"name": "plain"}, {"name": "warm", "temperature": 0.9}]
    results = _run(
        experiment(CITIES, variants, repeats=3, scorers=[contains("o")], bot=bot, display=False)
    )
    assert len(results) == len(CITIES) * 2 * 3
    assert [t.key for t in results] == sorted(t.key for t in results)  # input, variant, repeat
    failed = [t for t in results if t.error]
    assert len(failed) == len(results) // 5 and all("BadRequestError" in t.error for t in failed)
    assert all(not t.scores for t in failed)
    frame = results.to_dataframe()
    assert len(frame) == 36 and {"score.contains 'o'", "cost_usd", "ttft_s"} <= set(frame.columns)
    summary = {row["variant"]: row for row in results.summary()}
    plain = [t for t in results if t.variant == "plain" and not t.error]
    assert summary["plain"]["failed"] == 18 - len(plain)
    per_input: dict[int, list[float]] = {}
    for t in plain:
        per_input.setdefault(t.input, []).append(t.scores["contains 'o'"])
    found = clustered_mean(per_input)  # the inputs are the sample, not the repeats
    assert summary["plain"]["contains 'o' ±"] == pytest.approx(found.half)
    assert summary["plain"]["contains 'o'"] == pytest.approx(
        statistics.fmean(statistics.fmean(v) for v in per_input.values())
    )
    assert summary["plain"]["contains 'o' inputs"] == len(per_input)
    assert "| plain | 18 |" in results._repr_markdown_()


def test_a_baseline_diff_shows_what_moved(tmp_path: Path) -> None:
    rows = [{"city": c, "expected": c} for c in CITIES[:3]]
    bot = Chatbot.mock(display=False)
    before = _run(experiment(rows, template="{city}", scorers=[equals()], bot=bot, display=False))
    saved = before.save(tmp_path / "before.json")
    assert Experiment.load(saved).to_records() == before.to_records()
    after = _run(
        experiment(
            rows,
            template="The city: {city}",
            scorers=[equals()],
            bot=bot,
            display=False,
            baseline=saved,
        )
    )
    diff = after.diff(after.baseline)  # type: ignore[arg-type]
    (row,) = diff.variants()
    assert (row["equals expected before"], row["equals expected now"]) == (1.0, 0.0)
    moved = diff.trials()
    assert len(moved) == 3 and all(m["answer changed"] for m in moved)
    assert "1.00 → 0.00 (-1.00)" in diff._repr_markdown_()


def test_the_throttle_reads_the_rate_limit_headers() -> None:
    clock = FakeClock()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    throttle = Throttle(clock=clock, sleep=sleep)
    assert parse_duration("6m0s") == 360 and parse_duration("20ms") == 0.02
    assert parse_duration("1.5") == 1.5 and parse_duration(None) is None
    # 60 requests a minute, none left: the next waits a second for a token.
    headers = {"x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "0"}
    assert throttle.observe(200, headers) is False
    _run(throttle.ready())
    assert slept == [pytest.approx(1.0)]
    # A 429 pauses every request for its Retry-After.
    assert throttle.observe(429, {"retry-after-ms": "2500"}) is True
    _run(throttle.ready())
    assert slept[-1] == pytest.approx(2.5) and throttle.limited == 1
    # No tokens left: wait for their reset.
    throttle.observe(200, {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "3s"})
    _run(throttle.ready())
    assert slept[-1] == pytest.approx(3.0, abs=0.05)


@pytest.fixture
def served() -> Iterator[str]:
    """``chatnb serve`` answering 429 (Retry-After: 0.2 s) to every 4th request and completing
    batches after a second."""
    failure = json.dumps({"status": 429, "every": 4, "retry_after_s": 0.2})
    flags = ["--failure", failure, "--itl-ms", "2", "--batch-delay-s", "1"]
    with chatnb_serve(*flags) as url:
        yield url


def test_rate_limits_slow_the_run_down_instead_of_failing_it(served: str) -> None:
    bot = Chatbot("gpt-4o-mini", base_url=served, api_key="sk-local", display=False)
    inputs = [f"question {n}" for n in range(60)]
    results = _run(experiment(inputs, concurrency=16, bot=bot, display=False))
    assert len(results) == 60 and not [t for t in results if t.error]
    assert [t.answer for t in results] == inputs
    # Every 4th request got a 429 and was sent again after the pause: 60 rows, about 80 sent.
    assert results.rate_limited >= 15 and results.requests <= 60 * 1.5


def test_a_batch_runs_through_the_official_client_and_resumes_elsewhere(served: str) -> None:
    # Every 4th line of the batch fails (the server's failure applies to batch lines too).
    script = textwrap.dedent(
        f"""
        import asyncio, json, sys
        import openai
        from chatnb import Chatbot, experiment
        from chatnb.experiments import equals
        bot = Chatbot("gpt-4o-mini", base_url={served!r}, api_key="sk-local", display=False)
        rows = [{{"city": c, "expected": c}} for c in {CITIES!r}]
        batch_id = sys.argv[1] if len(sys.argv) > 1 else None
        async def main():
            run = experiment(rows, [{{"name": "a"}}, {{"name": "b", "temperature": 0.5}}],
                             template="{{city}}", scorers=[equals()], bot=bot, display=False,
                             mode="batch", batch_id=batch_id, poll_s=0.1)
            if batch_id is None:  # stop waiting once it runs: the batch goes on without us
                task = asyncio.ensure_future(run)
                watcher = openai.AsyncOpenAI(base_url={served!r}, api_key="sk-local")
                while not (await watcher.batches.list()).data:
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.5)  # the experiment got the batch back, and polls it
                task.cancel()
                return await task
            return await run
        results = asyncio.run(main())
        print(json.dumps({{"id": results.batch_id, "interrupted": results.interrupted,
                           "trials": [t.record() for t in results]}}))
        """
    )
    first = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    started = json.loads(first.stdout.splitlines()[-1])
    assert started["interrupted"] and started["id"].startswith("batch_") and not started["trials"]
    # A new process (a new kernel) picks the batch up by its id.
    second = subprocess.run(
        [sys.executable, "-c", script, started["id"]], capture_output=True, text=True, timeout=120
    )
    resumed = json.loads(second.stdout.splitlines()[-1])
    trials = resumed["trials"]
    assert resumed["id"] == started["id"] and len(trials) == 12
    assert [(t["input"], t["variant"]) for t in trials] == [
        (i, v) for i in range(6) for v in ("a", "b")
    ]
    failed = [t for t in trials if t["error"]]
    assert len(failed) == 3 and all("HTTP 429" in t["error"] for t in failed)
    for trial in trials:
        if not trial["error"]:
            assert trial["answer"] == CITIES[trial["input"]]
            assert trial["score.equals expected"] == 1.0
            assert trial["cost_usd"] > 0  # at the Batch API's half price


def test_the_mock_batch_api_lists_and_cancels_as_the_real_one() -> None:
    import io

    from chatnb import mock

    client = mock.client(batch_delay_s=60)
    line = {
        "custom_id": "only",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    }
    upload = client.files.create(
        file=("in.jsonl", io.BytesIO(json.dumps(line).encode())), purpose="batch"
    )
    assert client.files.retrieve(upload.id).purpose == "batch"
    batch = client.batches.create(
        input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert batch.status == "in_progress" and batch.request_counts.total == 1  # type: ignore[union-attr]
    assert [b.id for b in client.batches.list()] == [batch.id]
    assert client.batches.cancel(batch.id).status == "cancelled"
    assert client.batches.retrieve(batch.id).output_file_id is None
    with pytest.raises(Exception, match="No batch found"):
        client.batches.retrieve("batch_nobody")


def test_a_chatbot_can_be_a_variant_and_a_cache_makes_re_runs_send_only_what_is_missing(
    tmp_path: Path,
) -> None:
    from chatnb.cache import Cache

    cache = Cache(tmp_path / "runs.sqlite")
    bot = Chatbot.mock(display=False, cache=cache)
    other = Chatbot.mock("Another provider's answer.", display=False, model="gpt-4o")
    first = _run(experiment(CITIES[:4], [{"name": "mine"}], repeats=2, bot=bot, display=False))
    assert first.requests == 8
    # Two more inputs, and a variant that is a Chatbot of its own (not cached): only the new
    # inputs of the cached variant are sent again, with every repeat.
    again = _run(experiment(CITIES, [{"name": "mine"}, other], repeats=2, bot=bot, display=False))
    assert again.variants == ["mine", "variant 2 (gpt-4o)"]
    assert again.requests == 2 * 2 + 6 * 2
    mine = [t for t in again if t.variant == "mine"]
    assert [t.answer for t in mine] == [c for c in CITIES for _ in range(2)]
    assert {t.answer for t in again if t.variant != "mine"} == {"Another provider's answer."}
    with pytest.raises(ChatnbError, match="one provider"):
        _run(experiment(CITIES[:1], [{}, Chatbot("gpt-4o", base_url="http://127.0.0.1:9/v1",
                                                    api_key="x")], bot=bot, display=False,
                        mode="batch"))  # fmt: skip


def test_a_batch_resumed_with_other_inputs_is_refused_not_matched_to_the_wrong_rows() -> None:
    bot = Chatbot.mock(display=False, batch_delay_s=0)
    first = _run(experiment(CITIES[:2], bot=bot, display=False, mode="batch", poll_s=0.01))
    assert [t.answer for t in first] == CITIES[:2]
    # Once, the answers for "Paris" and "Tokyo" were given to two other prompts, silently.
    for inputs in (CITIES[2:4], CITIES[:3]):
        with pytest.raises(ChatnbError, match="started from other inputs"):
            _run(experiment(inputs, bot=bot, display=False, mode="batch", batch_id=first.batch_id))
    again = _run(
        experiment(CITIES[:2], bot=bot, display=False, mode="batch", batch_id=first.batch_id)
    )
    assert [t.answer for t in again] == CITIES[:2]


@pytest.mark.parametrize(
    ("batch_id", "said"),
    [
        ("batch_nobody", "has no batch 'batch_nobody' \\(404"),
        ("../files/file-x", "is not the id of a batch"),
        ("batch x?y", "is not the id of a batch"),
    ],
)
def test_a_batch_id_that_names_no_batch_is_one_plain_error(batch_id: str, said: str) -> None:
    bot = Chatbot.mock(display=False, batch_delay_s=0)
    with pytest.raises(ChatnbError, match=said):
        _run(experiment(CITIES[:1], bot=bot, display=False, mode="batch", batch_id=batch_id))


@pytest.mark.parametrize(
    "line",
    [
        {"custom_id": "x", "response": {"status_code": 200, "body": {"choices": []}}},
        {"custom_id": "x", "response": {"status_code": 200, "body": "not an object"}},
        {"custom_id": "x", "response": {"status_code": 200, "body": {"choices": [None]}}},
        {"custom_id": "x", "response": "odd"},
        {"custom_id": "x", "response": {"status_code": 500, "body": {"error": "flat"}}},
    ],
)
def test_a_hostile_result_line_fails_its_trial_not_the_experiment(line: dict[str, object]) -> None:
    from chatnb.experiments.batch import _trial
    from chatnb.experiments.inputs import cases
    from chatnb.experiments.plan import Plan

    bot = Chatbot.mock(display=False, model="gpt-4o")
    plan = Plan(cases(["q"], None), ["v"], [bot], 1, [], [])
    trial = _trial(plan, plan.jobs()[0], line, "completed")
    assert trial.error and trial.answer == ""


def test_hostile_usage_in_a_result_line_counts_as_unknown() -> None:
    from chatnb.experiments.batch import _trial
    from chatnb.experiments.inputs import cases
    from chatnb.experiments.plan import Plan

    bot = Chatbot.mock(display=False, model="gpt-4o")
    plan = Plan(cases(["q"], None), ["v"], [bot], 1, [], [])
    body = {"choices": [{"message": {"content": "A"}}], "usage": {"prompt_tokens": "9"}}
    line = {"custom_id": "x", "response": {"status_code": 200, "body": body}}
    trial = _trial(plan, plan.jobs()[0], line, "completed")
    assert trial.answer == "A" and trial.error is None and trial.prompt_tokens is None


def test_plot_refuses_an_unknown_scorer_in_words_before_drawing() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bot = Chatbot.mock(display=False)
    results = _run(
        experiment(CITIES[:2], scorers=[contains("Paris"), lambda a: 1], bot=bot, display=False)
    )
    assert results.scorers == ["contains 'Paris'", "score 2"]
    figures = len(plt.get_fignums())
    with pytest.raises(ValueError) as refused:
        results.plot("contains")
    assert str(refused.value).startswith(
        "No scorer is named 'contains'. This experiment's scorers: \"contains 'Paris'\", 'score 2'."
    )
    assert len(plt.get_fignums()) == figures  # no empty figure left behind
    assert results.plot("contains 'Paris'").get_title().startswith("contains 'Paris': mean")
    plt.close("all")


def test_a_raising_scorer_is_counted_and_its_reason_shown() -> None:
    def broken(answer: str) -> float:
        raise ZeroDivisionError("oops")

    bot = Chatbot.mock(display=False)
    results = _run(experiment(CITIES[:3], scorers=[broken], bot=bot, display=False))
    (row,) = results.summary()
    assert row["broken scorer failed"] == 3
    assert row["broken scorer error"] == "the scorer failed: ZeroDivisionError: oops"
    table = results._repr_markdown_()
    assert "- **broken** failed on 3 of variant 1's answers (not counted in its score): " in table


def test_runs_show_as_a_table(tmp_path: Path) -> None:
    import chatnb

    bot = Chatbot.mock(display=False, cache=tmp_path / "log.sqlite")
    bot.ask("What is <b>SSE</b>?")
    logged = chatnb.runs(tmp_path / "log.sqlite")
    html = logged._repr_html_()
    assert html is not None and "<table" in html and "&lt;b&gt;SSE&lt;/b&gt;" in html
    assert "<b>SSE</b>" not in html  # the cells are escaped
    table = logged._repr_markdown_()
    assert table.splitlines()[0].startswith("| id | when | model | outcome | question |")
    assert "1 runs." in table and "gpt-4o-mini" in table
