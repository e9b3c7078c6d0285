"""Sessions: copy, undo, regenerate, transcripts, save and load, cost."""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from chatnb import Chatbot, ChatnbError
from chatnb.cache import Cache
from chatnb.errors import ChatnbWarning
from chatnb.pricing import Price, price_for
from chatnb.settings import CONNECTION, Settings, field_names
from chatnb.tools import FunctionTool
from chatnb.turn import Turn

SECRET = "sk-proj-never-in-a-file-0123456789"


def conversation() -> Chatbot:
    bot = Chatbot.mock(
        ["one", "two", "three", "four"], system="Be brief.", display=False, temperature=0.3
    )
    bot.ask("first")
    bot.ask("second")
    return bot


def test_undo_removes_the_last_exchange() -> None:
    bot = conversation()
    removed = bot.undo()
    assert [(m.role, m.content) for m in removed] == [("user", "second"), ("assistant", "two")]
    assert [m.content for m in bot.history] == ["first", "one"]
    bot.undo()
    assert bot.undo() == [] and len(bot.history) == 0


def test_regenerate_replaces_the_last_answer() -> None:
    bot = conversation()
    assert bot.regenerate() == "three"
    assert [m.content for m in bot.history] == ["first", "one", "second", "three"]
    bot.reset()
    with pytest.raises(ChatnbError, match="no question"):
        bot.regenerate()


def test_transcript_marks_interrupted_answers() -> None:
    bot = Chatbot.mock("A long answer that breaks.", display=False)
    with pytest.raises(ChatnbError):
        bot.ask("Q", extra_body={"mock": {"failure": {"error_after": 3}}})
    transcript = bot.to_markdown()
    assert "**user**\n\nQ" in transcript and "**assistant** (failed)" in transcript


def test_save_then_load_gives_the_same_history_and_settings(tmp_path: Path) -> None:
    bot = Chatbot.mock(
        "An answer that breaks here.",
        display=False,
        temperature=0.3,
        context_window=9_000,
        max_output_tokens=500,
    )
    bot.ask("ok")
    with pytest.raises(ChatnbError):
        bot.ask("again", extra_body={"mock": {"failure": {"error_after": 3}}})
    path = bot.save(tmp_path / "session.json")
    loaded = Chatbot.load(path, display=False)
    assert loaded.history.messages() == bot.history.messages()
    assert loaded.history.note(loaded.history[-1]) == "failed"
    assert (loaded.model, loaded.sampling, loaded.limits) == (bot.model, bot.sampling, bot.limits)
    assert loaded.ask("works?") == "works?"  # a session saved on the mock loads on an echo mock


def test_a_saved_session_never_contains_the_key(tmp_path: Path) -> None:
    bot = Chatbot(
        "gpt-4o",
        base_url="http://127.0.0.1:9/v1",
        api_key=SECRET,
        system="S",
        extra_headers={"Authorization": f"Bearer {SECRET}"},
    )
    bot.history.append({"role": "user", "content": "hi"})
    path = bot.save(tmp_path / "s.json")
    assert SECRET not in path.read_text()
    assert json.loads(path.read_text())["base_url"] == "http://127.0.0.1:9/v1/"
    loaded = Chatbot.load(path, api_key="sk-another", use_saved_base_url=True)
    assert loaded.base_url == "http://127.0.0.1:9/v1/" and loaded.history.system == "S"


def test_loading_something_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"messages": []}')
    with pytest.raises(ChatnbError, match="not a saved chatnb session"):
        Chatbot.load(path)


def test_copy_shares_clients_and_changes_settings() -> None:
    bot = conversation()
    twin = bot.copy(model="gpt-4o", system="Other.", temperature=1.1)
    assert twin.client is bot.client and twin.model == "gpt-4o"
    assert twin.history.system == "Other." and twin.sampling["temperature"] == 1.1
    assert [m.content for m in twin.history] == [m.content for m in bot.history]
    twin.ask("more")
    assert len(twin.history) == len(bot.history) + 2


def test_switching_models_recounts_the_history() -> None:
    bot = Chatbot.mock("echo", model="gpt-4", display=False, price=None)  # list prices
    bot.ask("Some text to count with two different vocabularies: naïve façade, 東京.")
    before = bot.history.tokens()
    bot.model = "gpt-4o"
    assert bot.history.tokenizer.name == "o200k_base" and bot.history.tokens() != before
    assert bot.limits.context_window == 128_000 and bot.price == price_for("gpt-4o")


# The mock server, like a real one, does not know the local model's tokenizer: it says so once.
@pytest.mark.filterwarnings("ignore:chatnb does not know which tokenizer 'my-local-llm'")
def test_usage_has_an_estimated_cost_where_the_price_is_known() -> None:
    # price=None: the mock billed at the model's list price (by default it costs $0).
    bot = Chatbot.mock("A reply of a few tokens.", model="gpt-4o", display=False, price=None)
    bot.ask("Hello")
    last = bot.usage.last
    assert last is not None and last.cost_usd == pytest.approx(
        (last.billed_prompt_tokens * 2.5 + last.billed_completion_tokens * 10) / 1e6
    )
    table = bot.usage._repr_markdown_()
    assert "\\$0.0" in table and "$" not in table.replace("\\$", "")  # no math for Jupyter
    local = {
        "model": "my-local-llm",
        "display": False,
        "context_window": 4096,
        "max_output_tokens": 512,
        "encoding": "o200k_base",
    }
    unknown = Chatbot.mock("x", **local, price=None)
    unknown.ask("Hi")
    assert unknown.usage.cost_usd is None and "?" in unknown.usage._repr_markdown_()
    priced = Chatbot.mock("x", **local, price=Price(1.0, 2.0))
    priced.ask("Hi")
    assert priced.usage.cost_usd is not None and priced.usage.cost_usd > 0
    assert price_for("gpt-4o-2024-08-06") == price_for("gpt-4o") != price_for("gpt-4o-mini")


def test_a_saved_conversation_loads_and_reads_without_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = Chatbot("gpt-4o", base_url="http://127.0.0.1:9/v1", api_key=SECRET, display=False)
    bot.history.append({"role": "user", "content": "hi"})
    path = bot.save(tmp_path / "s.json")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    loaded = Chatbot.load(path, display=False, use_saved_base_url=True)
    assert "**user**\n\nhi" in loaded.to_markdown() and loaded.base_url == "http://127.0.0.1:9/v1/"
    with pytest.raises(ChatnbError, match="No API key"):
        loaded.ask("more")


def test_a_model_described_by_its_limits_is_counted_without_a_warning() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither the window nor the tokenizer is a guess
        bot = Chatbot(
            "my-described-llm",
            base_url="http://127.0.0.1:9/v1",
            api_key=SECRET,
            context_window=4096,
            max_output_tokens=512,
        )
        bot.history.append({"role": "user", "content": "hello"})
    assert bot.profile.encoding == "o200k_base" and bot.history.tokenizer.name == "o200k_base"
    named = Chatbot(
        "my-other-llm",
        api_key=SECRET,
        encoding="cl100k_base",
        context_window=9,
        max_output_tokens=1,
    )
    assert named.history.tokenizer.name == "cl100k_base"


def test_a_named_encoding_survives_save_and_load(tmp_path: Path) -> None:
    """The bug of issue 29: the constructor took ``encoding=``, but save/load dropped it, so
    the loaded Chatbot counted with o200k_base and warned that it was guessing."""
    import warnings

    bot = Chatbot.mock(model="my-local-model", encoding="cl100k_base", display=False)
    assert bot.history.tokenizer.name == "cl100k_base"
    path = bot.save(tmp_path / "local.json")
    with warnings.catch_warnings():
        # The loaded bot knows its tokenizer: no guess to warn of (the window is a guess).
        warnings.filterwarnings("error", message=".*tokenizer", category=ChatnbWarning)
        loaded = Chatbot.load(path, display=False)
        loaded.history.append({"role": "user", "content": "count me"})
    assert loaded.profile.encoding == "cl100k_base"
    assert loaded.history.tokenizer.name == "cl100k_base"
    assert bot.copy().history.tokenizer.name == "cl100k_base"


def test_the_api_survives_save_and_load(tmp_path: Path) -> None:
    bot = Chatbot.mock(api="responses", display=False)
    bot.ask("hello")
    loaded = Chatbot.load(bot.save(tmp_path / "responses.json"), display=False)
    assert loaded.api == "responses" and loaded.ask("again") == "again"


def _weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}."


_OUTPUT = object()  # stands for a widget
_DECLARED = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}


def _samples(tmp_path: Path) -> dict[str, Any]:
    """A value other than the default for every setting."""
    return {
        "model": "gpt-4o",
        "system": "Be terse.",
        "context_window": 9_000,
        "max_output_tokens": 500,
        "encoding": "cl100k_base",
        "price": Price(1.0, 2.0, 0.5, label="mine"),
        "max_turns": 3,
        "api": "responses",
        "sampling": {"temperature": 0.25, "top_p": 0.5},
        "answer_timeout": 42.0,
        "max_steps": 3,
        "math": False,
        "show_reasoning": False,
        "safe": False,
        "display": False,
        "output": _OUTPUT,
        "tools": (FunctionTool.of(_weather), _DECLARED),
        "confirm": True,
        "cache": Cache(tmp_path / "cache.sqlite"),
    }


def _given(name: str, value: Any) -> dict[str, Any]:
    return dict(value) if name == "sampling" else {name: value}


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Settings)])
def test_every_setting_reaches_copy_save_load_and_the_turn(name: str, tmp_path: Path) -> None:
    """Each field of Settings (a new one too: it needs a sample above) is what the
    constructor took, after copy(), in the turn, and after save/load unless it is local."""
    setting = next(f for f in dataclasses.fields(Settings) if f.name == name)
    value = _samples(tmp_path)[name]
    bot = Chatbot.mock(**{"display": False, **_given(name, value)})
    assert getattr(bot.settings, name) == value
    assert getattr(bot.copy().settings, name) == value
    assert getattr(Turn.of(bot, None, {}).settings, name) == value
    path = bot.save(tmp_path / "session.json")
    if "local" in setting.metadata:  # never saved; the loader passes its own
        assert name not in json.loads(path.read_text()) and setting.metadata["local"]
        loaded = Chatbot.load(path, **{"display": False, **_given(name, value)})
    else:
        loaded = Chatbot.load(path, display=False)
    assert getattr(loaded.settings, name) == value


def test_the_constructor_takes_the_settings_and_where_to_connect() -> None:
    parameters = set(inspect.signature(Chatbot).parameters)
    assert parameters == field_names() | set(CONNECTION)


def test_settings_are_frozen_and_checked_when_replaced() -> None:
    bot = Chatbot.mock(display=False, temperature=0.3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        bot.settings.safe = False  # type: ignore[misc]
    with pytest.raises(ChatnbError, match="Did you mean 'temperature'"):
        bot.settings.replaced(temprature=1.0)
    bot.settings = bot.settings.replaced(model="gpt-4", temperature=0.9)
    assert bot.history.tokenizer.name == "cl100k_base" and bot.sampling["temperature"] == 0.9
    bot.display = True
    assert bot.settings.display is True
    with pytest.raises(ValueError, match="two tools are named"):
        bot.settings.replaced(tools=[_weather, _weather])
    with_tool = bot.copy(tools=[_weather])
    assert with_tool.copy().tools.functions["_weather"] is with_tool.tools.functions["_weather"]


def test_settings_show_no_credential_of_a_header(tmp_path: Path) -> None:
    header = {"Authorization": f"Bearer {SECRET}", "X-Custom": SECRET}
    bot = Chatbot.mock(display=False, extra_headers=header, extra_query={"sig": SECRET})
    assert SECRET not in repr(bot.settings) and "X-Custom" in repr(bot.settings)
    assert SECRET not in bot.save(tmp_path / "s.json").read_text()
    assert bot.copy().sampling["extra_headers"] == header  # kept, only not shown
