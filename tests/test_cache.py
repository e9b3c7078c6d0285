"""Record and replay, against a real server on 127.0.0.1 that counts its requests: a re-run
asks nothing, samples replay in order, replay mode needs no server, nothing secret is stored,
and neither concurrency nor a SIGKILL corrupts the file."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openai
import pytest

import chatnb
from chatnb import Chatbot, ChatnbError, mock
from chatnb.cache import Cache, CacheMissError
from chatnb.cache import client as cached_client
from chatnb.errors import CacheReadError, CacheWriteWarning

from .servers import RecordingServer

SECRET = "sk-cache-secret-0123456789abcdef"


def _stream(text: str) -> bytes:
    """The bytes of a streamed answer, as the mock (like the real API) sends them."""
    create = mock.client(text).chat.completions.with_streaming_response.create
    with create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True) as r:
        return b"".join(r.iter_bytes())


def _bot(server: RecordingServer, cache: str | Path | Cache) -> Chatbot:
    client = openai.OpenAI(base_url=server.url, api_key=SECRET, max_retries=0)
    return Chatbot("gpt-4o", client=client, cache=cache, display=False)


def test_a_rerun_asks_the_server_nothing_and_samples_replay_in_order(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    answers = [_stream("First answer."), _stream("Second answer.")]
    with RecordingServer(answers) as server:

        def session() -> tuple[str, str]:
            bot = _bot(server, path)
            return bot.ask("Question?"), bot.regenerate()  # the same request, twice on purpose

        first, again = session(), session()  # the second, like a notebook re-run in a new kernel
    assert first == again == ("First answer.", "Second answer.")
    assert len(server.requests) == 2
    replaying = _bot(server, Cache(path, "replay"))  # the server is gone now
    assert replaying.ask("Question?") == "First answer."
    assert replaying.regenerate() == "Second answer."
    with pytest.raises(CacheMissError) as missed:
        replaying.ask("A question never asked")
    assert "A question never asked" in str(missed.value) and "\n" not in str(missed.value)
    assert len(replaying.history) == 2  # the miss took its question back
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert SECRET.encode() not in stored and b"Bearer" not in stored


def test_errors_and_broken_streams_are_not_recorded(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c.sqlite")
    bot = Chatbot.mock("A complete answer at last.", cache=cache, display=False, max_retries=0)
    for failure in ({"error_after": 2}, {"truncate_after": 2}, {"status": 500}):
        with pytest.raises(ChatnbError):
            bot.ask("Hello", extra_body={"mock": {"failure": {**failure, "times": 1}}})
    assert len(cache.store) == 0
    assert bot.ask("Hello") == "A complete answer at last." and len(cache.store) == 1


def test_any_openai_client_records_and_replays(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    messages = [{"role": "user", "content": "Hi"}]

    def stream_text(client: openai.OpenAI) -> str:
        chunks = client.chat.completions.create(model="gpt-4o", messages=messages, stream=True)  # type: ignore[arg-type]
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    with RecordingServer(_stream("Hello there.")) as server:
        plain = openai.OpenAI(base_url=server.url, api_key=SECRET, max_retries=0)
        assert stream_text(cached_client(plain, path)) == "Hello there."
        assert stream_text(cached_client(plain, path)) == "Hello there."
    assert len(server.requests) == 1
    assert asyncio.run(_async_text(path)) == "Hello there."  # the async client replays it too


async def _async_text(path: Path) -> str:
    client = cached_client(openai.AsyncOpenAI(base_url="http://127.0.0.1:9/v1", api_key="x"), path)
    chunks = await client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    return "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])


def test_200_concurrent_recordings_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    bot = Chatbot.mock("echo", cache=path, display=False)

    async def everyone() -> list[str]:
        twins = [bot.copy() for _ in range(200)]
        return await asyncio.gather(*(t.aask(f"question {i}") for i, t in enumerate(twins)))

    assert asyncio.run(everyone()) == [f"question {i}" for i in range(200)]
    assert len(Cache(path).store) == 200 and len(chatnb.runs(path)) == 200
    replay = Chatbot.mock("never used", cache=Cache(path, "replay"), display=False)
    assert replay.ask("question 123") == "question 123"


KILLED = """
from chatnb import Chatbot
from chatnb.mock import MarkdownSample
bot = Chatbot.mock("Done.", cache={path!r}, display=False)
bot.ask("A short one")
print("recorded", flush=True)
slow = Chatbot.mock(MarkdownSample(20_000), itl_ms=5, cache={path!r}, display=False)
slow.ask("A long one")
"""


def test_a_kernel_killed_mid_recording_leaves_a_file_that_opens_and_no_half_answer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.sqlite"
    script = textwrap.dedent(KILLED.format(path=str(path)))
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline() == "recorded\n"
    time.sleep(0.5)  # the long answer is streaming and being recorded
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    cache = Cache(path, "replay")
    assert len(cache.store) == 1 and len(chatnb.runs(path)) == 1
    bot = Chatbot.mock("unused", cache=cache, display=False)
    assert bot.ask("A short one") == "Done."
    with pytest.raises(CacheMissError):
        bot.ask("A long one")


def test_a_foreign_or_damaged_file_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE invoices (id INTEGER)")
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, but long enough to look like a header " * 4)
    for path in (foreign, text):
        before = path.read_bytes()
        with pytest.raises(ChatnbError, match="not a chatnb cache"):
            Cache(path)
        assert path.read_bytes() == before


def test_every_exchange_is_logged_whether_the_cache_answered_or_not(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    bot = Chatbot.mock("An answer.", model="gpt-4o", cache=path, display=False, temperature=0.3)
    bot.ask("First question")
    bot.regenerate()
    Chatbot.mock("unused", model="gpt-4o", cache=path, display=False, temperature=0.3).ask(
        "First question"
    )
    with pytest.raises(ChatnbError):
        bot.ask("Break", extra_body={"mock": {"failure": {"error_after": 3}}})
    logged = chatnb.runs(path)
    assert [(r["outcome"], r["cache"]) for r in logged] == [
        ("answered", "miss"),
        ("answered", "miss"),
        ("answered", "hit"),
        ("failed", "miss"),
    ]
    first = logged[0]
    assert first["messages"] == [{"role": "user", "content": "First question"}]
    assert first["options"] == {"temperature": 0.3} and first["model"] == "gpt-4o"
    assert (
        first["answer"] == "An answer." and first["prompt_tokens"] and first["cost_usd"] == 0.0
    )  # the mock is free
    assert first["host"] == "chatnb-mock.invalid" and first["total_s"] > 0
    assert "error in the middle" in logged[-1]["error"]
    assert [r["id"] for r in chatnb.runs(path, text="Break")] == [logged[-1]["id"]]
    assert chatnb.runs(path, model="gpt-4o-mini") == []
    frame = chatnb.runs(path).to_dataframe()
    assert list(frame["outcome"]) == ["answered", "answered", "answered", "failed"]
    with sqlite3.connect(path) as plain:  # any SQLite tool reads it
        assert plain.execute("SELECT COUNT(*) FROM messages").fetchone() == (3,)


def test_a_file_of_an_older_schema_is_migrated_and_keeps_its_recordings(tmp_path: Path) -> None:
    from chatnb.store import MIGRATIONS, Store

    path = tmp_path / "old.sqlite"
    Chatbot.mock("Kept.", cache=path, display=False).ask("Q")
    with sqlite3.connect(path) as db:  # as a chatnb from before the run log left it
        db.execute("DROP TABLE runs")
        db.execute("DROP TABLE messages")
        db.execute("UPDATE chatnb_meta SET value = '1' WHERE name = 'schema'")
    store = Store(path)
    assert store.db.execute("SELECT value FROM chatnb_meta WHERE name = 'schema'").fetchone() == (
        str(len(MIGRATIONS)),
    )
    assert chatnb.runs(path) == [] and len(store) == 1
    replay = Chatbot.mock("unused", cache=Cache(path, "replay"), display=False)
    assert replay.ask("Q") == "Kept." and len(chatnb.runs(path)) == 1
    with sqlite3.connect(path) as db:
        db.execute("UPDATE chatnb_meta SET value = '99' WHERE name = 'schema'")
    with pytest.raises(ChatnbError, match="newer chatnb"):
        Store(path)


def test_a_retried_request_is_the_same_sample_not_the_next(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    limited = {"extra_body": {"mock": {"failure": {"status": 429, "retry_after_s": 0, "times": 1}}}}
    bot = Chatbot.mock("Worth the wait.", cache=path, display=False, max_retries=1)
    assert bot.ask("Q", **limited) == "Worth the wait."  # a 429, then the client's own retry
    replay = Chatbot.mock("unused", cache=Cache(path, "replay"), display=False)
    assert replay.ask("Q", **limited) == "Worth the wait."  # recorded as the first sample


TWO_KERNELS = """
import sys
from chatnb import Chatbot
bot = Chatbot.mock("echo", cache={path!r}, display=False)
for i in range(60):
    assert bot.ask(f"kernel {{sys.argv[1]}}, question {{i}}") == f"kernel {{sys.argv[1]}}, question {{i}}"
"""


@pytest.mark.slow  # two Python processes taking turns at one file: 5-20 s
def test_two_kernels_record_into_one_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    script = textwrap.dedent(TWO_KERNELS.format(path=str(path)))
    kernels = [subprocess.Popen([sys.executable, "-c", script, name]) for name in "AB"]
    assert [kernel.wait(timeout=120) for kernel in kernels] == [0, 0]
    assert len(Cache(path).store) == 120 and len(chatnb.runs(path)) == 120


def test_recorded_timing_is_replayed_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    Chatbot.mock("one two three four five six", chunking="words", itl_ms=40, cache=path).ask("Q")
    timed = Chatbot.mock("x", cache=Cache(path, "replay", timing="recorded"), display=False)
    started = time.perf_counter()
    assert timed.ask("Q") == "one two three four five six"
    assert time.perf_counter() - started >= 5 * 0.040 * 0.8  # the five gaps between six words


def test_a_cache_that_cannot_write_warns_and_the_answer_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    bot = Chatbot.mock("A complete, billed answer.", cache=path, display=False)
    assert bot.clients.cache is not None
    # From now on the file refuses every write, as a full disk or a read-only file does.
    bot.clients.cache.store.db.execute("PRAGMA query_only = ON")
    with pytest.warns(CacheWriteWarning) as warned:
        answer = bot.ask("Hello")
    assert answer == "A complete, billed answer."
    assert bot.history[-1].content == answer and bot.history.note(bot.history[-1]) is None
    said = [str(w.message) for w in warned if w.category is CacheWriteWarning]
    assert len(said) == 2  # the recording and the run log's line
    assert all(str(path) in s and "answer itself is not affected" in s for s in said)
    assert "readonly" in said[0] and "\n" not in said[0]
    with pytest.warns(CacheWriteWarning):
        assert bot.ask("Again") == "A complete, billed answer."  # the next ask works too


def test_a_damaged_cache_file_says_so_and_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    first = Chatbot.mock("word " * 5000, cache=path, display=False)
    first.ask("Hello")
    assert first.clients.cache is not None
    first.clients.cache.store.db.close()  # everything is in the file itself now
    damaged = bytearray(path.read_bytes())
    for page in range(3 * 4096, len(damaged), 4096):  # the recording's pages, not the header
        damaged[page : page + 100] = b"\xff" * 100
    path.write_bytes(bytes(damaged))
    bot = Chatbot.mock("unused", cache=path, display=False)
    with pytest.raises(CacheReadError) as unreadable, pytest.warns(CacheWriteWarning):
        bot.ask("Hello")
    said = str(unreadable.value)
    assert str(path) in said and "damaged" in said and "connect" not in said.lower()
    assert len(bot.history) == 0  # the question was taken back
