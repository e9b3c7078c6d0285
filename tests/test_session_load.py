"""Loading a session file is reading data: it never sends the key to a host the user did not
name, takes only known fields, checks them, and refuses damaged or hostile files in plain
words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chatnb import Chatbot
from chatnb.errors import ChatnbError, ChatnbWarning

from .conftest import RECORDINGS
from .servers import RecordingServer

ANSWER = next(p for p in RECORDINGS if p.name.startswith("e2aad469")).read_bytes()
USER_KEY = "sk-user-0123456789abcdefSECRET"


def _session(path: Path, **fields: Any) -> Path:
    data = {
        "format": "chatnb.session/1",
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
        **fields,
    }
    path.write_text(json.dumps(data))
    return path


def test_a_crafted_base_url_never_gets_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with RecordingServer(ANSWER) as evil, RecordingServer(ANSWER) as mine:
        path = _session(tmp_path / "shared.json", base_url=evil.url)
        monkeypatch.setenv("OPENAI_API_KEY", USER_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", mine.url)
        with pytest.warns(ChatnbWarning, match="use_saved_base_url=True"):
            bot = Chatbot.load(path, display=False)
        bot.ask("Go on")
        assert evil.requests == []  # not the key, not the conversation
        assert mine.requests[0].headers["authorization"] == f"Bearer {USER_KEY}"
        # Only when the user says so, explicitly:
        trusting = Chatbot.load(path, display=False, use_saved_base_url=True)
        trusting.ask("Go on")
        assert len(evil.requests) == 1


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"sampling": {"base_url": "http://evil.test/v1"}}, "not request options: 'base_url'"),
        ({"sampling": {"api_key": "x", "display": False}}, "not request options"),
        ({"messages": [{"role": "user"}]}, "message 0: Value error, a user message needs content"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "message 0"),
        ({"messages": [{"role": "system", "content": 5}]}, "system prompt is not text"),
        ({"max_turns": "many"}, "max_turns"),
        ({"max_turns": 0}, "max_turns=0: keep at least 1 turn"),
        ({"encoding": "o300k_future"}, "encoding='o300k_future': there is no such tokenizer"),
        ({"api": "soap"}, "api: Input should be 'chat' or 'responses'"),
        ({"answer_timeout": -5}, "answer_timeout=-5.0"),
        ({"price": {"input_per_million": "free"}}, "price"),
        ({"sampling": {"temprature": 1}}, "not request options: 'temprature'"),
    ],
)
def test_damaged_or_hostile_fields_are_clear_errors(
    tmp_path: Path, fields: dict[str, Any], said: str
) -> None:
    path = _session(tmp_path / "bad.json", **fields)
    with pytest.raises(ChatnbError, match="damaged chatnb session") as damaged:
        Chatbot.load(path, display=False)
    assert said in str(damaged.value)


def test_deep_or_huge_files_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = tmp_path / "deep.json"
    nested = "[" * 100_000 + "]" * 100_000
    deep.write_text('{"format": "chatnb.session/1", "model": "x", "notes": ' + nested + "}")
    with pytest.raises(ChatnbError, match="nested too deeply"):
        Chatbot.load(deep)
    monkeypatch.setattr("chatnb.session.MAX_SESSION_BYTES", 10)
    with pytest.raises(ChatnbError, match="larger than a saved session"):
        Chatbot.load(_session(tmp_path / "big.json"))


def test_unknown_fields_are_ignored_and_a_mock_session_loads_on_a_mock(tmp_path: Path) -> None:
    bot = Chatbot.mock(display=False, temperature=0.3)
    bot.ask("hello")
    path = bot.save(tmp_path / "mock.json")
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "api_key": "sk-should-not-matter", "exec": "rm -rf /"}))
    again = Chatbot.load(path, display=False)
    assert again.sampling == {"temperature": 0.3} and len(again.history) == 2
    assert again.ask("again") == "again"
