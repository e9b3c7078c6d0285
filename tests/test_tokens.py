"""Token counts against the API's own reported numbers, offline vocabularies, model limits."""

from __future__ import annotations

import gzip
import hashlib
import inspect
import os
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatnb import errors, tokens, vocab
from chatnb.errors import ChatnbWarning
from chatnb.tokens import (
    ApproximateTokenizer,
    TiktokenTokenizer,
    count_tokens,
    encoding_for,
    encoding_name_for,
    model_limits,
)

# The OpenAI cookbook, "How to count tokens with tiktoken": the prompt_tokens the real API
# reported for these exact requests.
CORPORATE = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    },
]
WEATHER_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "The city and state, e.g. San Francisco, CA",
                    },
                    "unit": {
                        "type": "string",
                        "description": "The unit of temperature to return",
                        "enum": ["celsius", "fahrenheit"],
                    },
                },
                "required": ["location"],
            },
        },
    }
]
WEATHER = [
    {
        "role": "system",
        "content": "You are a helpful assistant that can answer to questions about the weather.",
    },
    {"role": "user", "content": "What's the weather like in San Francisco?"},
]


@pytest.mark.parametrize(
    ("model", "api_count"),
    [
        ("gpt-3.5-turbo", 129),
        ("gpt-4-0613", 129),
        ("gpt-4", 129),
        ("gpt-4o", 124),
        ("gpt-4o-mini", 124),
    ],
)
def test_count_matches_the_api_with_name_fields(model: str, api_count: int) -> None:
    assert count_tokens(CORPORATE, model) == api_count


@pytest.mark.parametrize(
    ("model", "api_count"),
    [("gpt-3.5-turbo", 105), ("gpt-4", 105), ("gpt-4o", 101), ("gpt-4o-mini", 101)],
)
def test_count_matches_the_api_with_tools(model: str, api_count: int) -> None:
    assert count_tokens(WEATHER, model, tools=WEATHER_TOOLS) == api_count


def test_real_vocabularies_are_loaded() -> None:
    o200k = encoding_for("gpt-4o")
    cl100k = encoding_for("gpt-4")
    assert isinstance(o200k, TiktokenTokenizer) and o200k.name == "o200k_base"
    assert isinstance(cl100k, TiktokenTokenizer) and cl100k.name == "cl100k_base"
    # Known ids of the real vocabularies (tiktoken's own test suite uses these).
    assert cl100k.encoding.encode("hello world") == [15339, 1917]
    assert o200k.encoding.encode("hello world") == [24912, 2375]


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-2024-08-06", "o200k_base"),
        ("gpt-4.1-mini", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("o1", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("o4-mini", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("gpt-oss-20b", "o200k_harmony"),
        ("openai/gpt-oss-120b", "o200k_harmony"),
        ("ft:gpt-4o-mini:acme::abc123", "o200k_base"),
    ],
)
def test_encoding_names_follow_tiktoken(model: str, encoding: str) -> None:
    assert encoding_name_for(model) == encoding


def test_harmony_encoding_loads_from_the_same_verified_file() -> None:
    harmony = encoding_for("gpt-oss-20b")
    assert isinstance(harmony, TiktokenTokenizer) and harmony.name == "o200k_harmony"
    assert harmony.count("hello world") == 2


def test_unknown_model_warns_once_per_name_and_can_name_an_encoding() -> None:
    with pytest.warns(ChatnbWarning, match="llama-3-local"):
        assert encoding_name_for("llama-3-local") == "o200k_base"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoding_name_for("llama-3-local")
        assert encoding_for("llama-3-local", encoding="cl100k_base").name == "cl100k_base"


def test_vocabulary_hashes_are_the_ones_tiktoken_expects() -> None:
    from tiktoken_ext import openai_public

    for name, vocabulary in vocab.VOCABULARIES.items():
        source = inspect.getsource(getattr(openai_public, name))
        assert vocabulary.url in source
        assert vocabulary.sha256 in source


def test_pieces_rebuild_the_text_without_splitting_characters() -> None:
    text = "héllo wörld 日本語 🎉 `code` **bold**"
    for tokenizer in (encoding_for("gpt-4o"), encoding_for("gpt-4"), ApproximateTokenizer()):
        pieces = tokenizer.pieces(text)
        assert "".join(pieces) == text
        assert len(pieces) > 5


# --- offline ------------------------------------------------------------------------------


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "cache"))
    tokens.get_tokenizer.cache_clear()
    yield tmp_path
    tokens.get_tokenizer.cache_clear()


def test_a_verified_local_copy_fills_tiktokens_cache(empty_cache: Path) -> None:
    source = vocab.ensure_vocabulary("cl100k_base", allow_download=False)
    assert source is not None and source.endswith("cl100k_base.tiktoken.gz")
    cached = vocab.tiktoken_cache_path(vocab.VOCABULARIES["cl100k_base"].url)
    assert cached is not None and cached.is_file()
    assert vocab.ensure_vocabulary("cl100k_base", allow_download=False) == "cache"


def test_a_copy_with_the_wrong_hash_is_refused(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = empty_cache / "vocab"
    bad.mkdir()
    (bad / "cl100k_base.tiktoken.gz").write_bytes(gzip.compress(b"dGVzdA== 0\n"))
    monkeypatch.setenv("CHATNB_VOCAB_DIR", str(bad))
    monkeypatch.setattr(vocab.importlib.util, "find_spec", lambda name: None)
    assert vocab.ensure_vocabulary("cl100k_base", allow_download=False) is None


def test_offline_without_a_copy_warns_once_and_counts_approximately(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATNB_OFFLINE", "1")
    monkeypatch.delenv("CHATNB_VOCAB_DIR", raising=False)
    monkeypatch.setattr(vocab.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(errors, "_warned", set())
    with pytest.warns(ChatnbWarning, match=r"chatnb\[offline\]"):
        tokenizer = encoding_for("gpt-4o")
    assert isinstance(tokenizer, ApproximateTokenizer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = encoding_for("gpt-4o")
        count = count_tokens(CORPORATE, "gpt-4o")
    assert again is tokenizer
    # Approximate, and on the safe side of the real count.
    assert 124 <= count <= 124 * 1.2


def test_download_is_tried_with_a_timeout_and_failure_is_not_fatal(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def refuse(url: str) -> bytes:
        calls.append(url)
        raise TimeoutError("no network")

    monkeypatch.setattr(vocab, "_download", refuse)
    monkeypatch.setattr(vocab.importlib.util, "find_spec", lambda name: None)
    monkeypatch.delenv("CHATNB_OFFLINE", raising=False)
    assert vocab.ensure_vocabulary("o200k_base") is None
    assert calls == [vocab.VOCABULARIES["o200k_base"].url]
    # The failure is remembered on the machine: the next kernel does not wait again today...
    assert vocab.ensure_vocabulary("o200k_base") is None
    assert len(calls) == 1
    # ...and tries again tomorrow.
    (marker,) = empty_cache.rglob("chatnb-download-failed-o200k_base")
    a_day_ago = time.time() - vocab.RETRY_DOWNLOAD_AFTER_S - 1
    os.utime(marker, (a_day_ago, a_day_ago))
    assert vocab.ensure_vocabulary("o200k_base") is None
    assert len(calls) == 2


def test_a_download_with_the_right_hash_is_cached(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = gzip.decompress(next(vocab._local_copies("cl100k_base")).read_bytes())
    assert hashlib.sha256(real).hexdigest() == vocab.VOCABULARIES["cl100k_base"].sha256
    monkeypatch.setattr(vocab, "_download", lambda url: real)
    monkeypatch.setattr(vocab.importlib.util, "find_spec", lambda name: None)
    monkeypatch.delenv("CHATNB_VOCAB_DIR", raising=False)
    assert (
        vocab.ensure_vocabulary("cl100k_base", allow_download=True)
        == vocab.VOCABULARIES["cl100k_base"].url
    )


def test_approximate_counts_are_close_and_high_on_prose() -> None:
    text = Path(__file__).with_name("fixtures").joinpath("README.md").read_text()
    real = encoding_for("gpt-4o").count(text)
    approx = ApproximateTokenizer().count(text)
    assert real <= approx <= real * 1.15


# --- model limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "window", "output"),
    [
        ("gpt-4o", 128_000, 16_384),
        ("gpt-4o-2024-08-06", 128_000, 16_384),
        ("gpt-4o-mini-2024-07-18", 128_000, 16_384),
        ("gpt-4-0613", 8_192, 8_192),
        ("gpt-4-turbo-2024-04-09", 128_000, 4_096),
        ("gpt-3.5-turbo-0125", 16_385, 4_096),
        ("gpt-4.1-nano-2025-04-14", 1_047_576, 32_768),
        ("o1", 200_000, 100_000),
        ("o3-mini-2025-01-31", 200_000, 100_000),
        ("o4-mini", 200_000, 100_000),
        ("gpt-5-mini", 400_000, 128_000),
        ("gpt-oss-20b", 131_072, 131_072),
        ("ft:gpt-4o-mini:acme::x1", 128_000, 16_384),
    ],
)
def test_model_limits_resolve_versioned_names_to_their_family(
    model: str, window: int, output: int
) -> None:
    limits = model_limits(model)
    assert (limits.context_window, limits.max_output_tokens, limits.known) == (window, output, True)


def test_unknown_model_gets_a_conservative_default_and_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(errors, "_warned", set())
    with pytest.warns(ChatnbWarning, match="context window of 'my-local-llm'"):
        limits = model_limits("my-local-llm")
    assert not limits.known and limits.context_window <= 8_192
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        both: Any = model_limits("my-local-llm", context_window=32_000, max_output_tokens=2_000)
    assert (both.context_window, both.max_output_tokens, both.known) == (32_000, 2_000, True)


def test_overrides_and_prompt_budget() -> None:
    limits = model_limits("gpt-4o", max_output_tokens=1_000)
    assert limits.prompt_budget() == 127_000
    assert limits.prompt_budget(reserved_output=28_000) == 100_000


def test_the_default_reserve_never_takes_more_than_a_quarter_of_the_window() -> None:
    # gpt-4 may answer with its whole 8,192-token window: reserving all of it would leave
    # nothing for the prompt.
    assert model_limits("gpt-4").prompt_budget() == 8_192 - 2_048
    assert model_limits("gpt-4o").prompt_budget() == 128_000 - 16_384


# --- loading off the caller's thread ------------------------------------------------------


def test_a_history_loads_its_tokenizer_in_the_background(monkeypatch: pytest.MonkeyPatch) -> None:
    """Making a History (and so a Chatbot) starts the vocabulary loading in a background
    thread; its first count waits for that load instead of loading a second time."""
    import threading

    import tiktoken

    from chatnb.history import History

    loaded_in: list[threading.Thread] = []
    real = tiktoken.get_encoding

    def recording(name: str) -> Any:
        loaded_in.append(threading.current_thread())
        return real(name)

    monkeypatch.setattr(tiktoken, "get_encoding", recording)
    tokens.get_tokenizer.cache_clear()
    try:
        history = History(system="Be brief.", model="gpt-4o")
        history.append({"role": "user", "content": "Hello"})
        tokens.answer_begun()  # as the first token of an ask does: the load starts
        assert _until(lambda: loaded_in)
        messages = [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello"},
        ]
        assert history.tokens() == count_tokens(messages, "gpt-4o")
    finally:
        tokens.get_tokenizer.cache_clear()
    assert len(loaded_in) == 1 and loaded_in[0] is not threading.main_thread()


def test_an_unknown_encoding_still_raises_where_it_is_given() -> None:
    with pytest.raises(ValueError):
        tokens.DeferredTokenizer("no_such_base")


# --- the first ask does not wait for the tokenizer ----------------------------------------


@pytest.fixture
def slow_vocabulary(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Every tokenizer load waits until the returned event is set (always set at the end,
    so a thread left waiting by a failing test is let go)."""
    release = threading.Event()
    real = tokens._exact

    def waiting(name: str) -> Any:
        release.wait(120)
        return real(name)

    monkeypatch.setattr(tokens, "_exact", waiting)
    tokens.get_tokenizer.cache_clear()
    try:
        yield release
    finally:
        release.set()
        tokens.get_tokenizer.cache_clear()


def _until(condition: Any, seconds: float = 60.0) -> bool:
    """Whether ``condition()`` came true within ``seconds`` (a bound only a broken run hits)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_the_first_ask_is_sent_before_the_tokenizer_has_loaded(
    slow_vocabulary: threading.Event,
) -> None:
    """`bot = Chatbot(...); bot.ask(...)` in one cell: the request goes out while the
    vocabulary is still loading (its bytes prove it fits); once the load ends, the usage
    line's own counts are exact, the same as a run that counted first."""
    from chatnb import Chatbot

    from .servers import RecordingServer
    from .test_clients import PLAIN

    with RecordingServer(PLAIN) as server:
        bot = Chatbot("gpt-4o", "Be brief.", base_url=server.url, api_key="sk-t", display=False)
        answers: list[Any] = []
        asking = threading.Thread(target=lambda: answers.append(bot.ask("Hello there")))
        asking.start()
        try:
            assert _until(lambda: len(server.requests) == 1), "the request waited for the load"
            assert asking.is_alive()  # its usage waits for the load: chatnb's counts are exact
        finally:
            slow_vocabulary.set()
            asking.join(60)
        counted = Chatbot("gpt-4o", "Be brief.", base_url=server.url, api_key="sk-t", display=False)
        again = counted.ask("Hello there")
    first = answers[0].usage
    assert str(answers[0]) == str(again)
    assert first.local_prompt_tokens == again.usage.local_prompt_tokens
    assert first.local_prompt_tokens == count_tokens(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}],
        "gpt-4o",
    )
    assert first.local_completion_tokens == again.usage.local_completion_tokens > 0
    assert bot.history.tokens() == counted.history.tokens()


def test_a_long_conversation_waits_for_the_tokenizer_and_is_trimmed_exactly(
    slow_vocabulary: threading.Event,
) -> None:
    """Appending does not wait for the load; a prompt whose bytes exceed the budget is not
    assumed to fit: fitting it waits for the tokenizer and trims as a counted History does."""
    from chatnb.history import History

    turns = [
        {"role": role, "content": f"{role} message {i}: " + "words and more words " * 4}
        for i in range(6)
        for role in ("user", "assistant")
    ]
    history = History(system="Be brief.", model="gpt-4o")
    appending = threading.Thread(target=lambda: history.extend(turns))
    appending.start()
    appending.join(60)
    try:
        assert not appending.is_alive(), "appending waited for the tokenizer"
        assert history.fits_uncounted(10_000)  # a few hundred bytes: certainly fits
        assert not history.fits_uncounted(200)  # more bytes than the budget: must count
        fitted: list[Any] = []
        fitting = threading.Thread(target=lambda: fitted.append(history.fitting(200)))
        fitting.start()
        fitting.join(0.3)
        assert fitting.is_alive()  # waiting for the load, not guessing
    finally:
        slow_vocabulary.set()
    fitting.join(60)
    assert not history.fits_uncounted(10_000)  # loaded: counting is cheap now
    counted = History(system="Be brief.", model="gpt-4o")
    counted.extend(turns)
    assert fitted == [counted.fitting(200)] and fitted[0].turns > 0
    assert history.tokens() == counted.tokens()
    assert history.fit(200) == counted.fit(200)
    assert history.messages() == counted.messages() and history.tokens() == counted.tokens()


def test_a_background_load_waits_for_the_first_token_but_never_holds_up_a_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The load would hold the GIL while the first ask sends and draws its first token, so it
    starts after that token (or a grace period); a count needed before then loads at once."""
    started: list[str] = []  # the threads that loaded r50k_base (no other test uses it)
    real = tokens._exact

    def recording(name: str) -> Any:
        if name == "r50k_base":
            started.append(threading.current_thread().name)
        return real(name)

    monkeypatch.setattr(tokens, "_exact", recording)
    monkeypatch.setattr(tokens, "LOAD_GRACE_S", 120.0)
    tokens.get_tokenizer.cache_clear()
    try:
        tokens.preload("r50k_base")
        time.sleep(0.2)
        assert started == []  # held back: no answer has begun
        tokens.answer_begun()
        assert _until(lambda: started == ["chatnb-tokenizer"])
        tokens.get_tokenizer.cache_clear()
        del started[:]
        tokens.preload("r50k_base")
        counting = threading.Thread(target=lambda: tokens.get_tokenizer("r50k_base").count("a"))
        counting.name = "Thread-counting"
        counting.start()
        counting.join(60)
        assert not counting.is_alive() and started == ["Thread-counting"]
    finally:
        tokens.answer_begun()  # let the held-back loader go
        tokens.get_tokenizer.cache_clear()
