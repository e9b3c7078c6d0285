"""The key never shows: not in an error (whatever the server echoes, wherever the key was
sent from), not in a repr, not in a saved session, not in the run log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest

from chatnb import Chatbot
from chatnb.errors import APIConnectionError, ChatnbError, ChunkValidationError, StreamErrorFrame
from chatnb.mock import MockServer
from chatnb.openai_private import library
from chatnb.redaction import Secrets, redact_url

KEY = "sk-proj-SECRETsecret0123456789abcdef"
AZURE_KEY = "azure0123456789abcdefSECRET"


def _everything(bot: Chatbot, error: BaseException | None = None) -> str:
    shown = [repr(bot), repr(bot.settings), bot.to_markdown()]
    if error is not None:
        shown += [str(error), repr(error), *map(str, error.args)]
        shown.append(str(getattr(error, "raw", "")))
        shown.append(str(getattr(error, "partial", "")))
    return "\n".join(shown)


def test_redaction_hides_keys_headers_and_url_credentials() -> None:
    secrets = Secrets.of(
        KEY, {"api-key": AZURE_KEY, "Authorization": f"Bearer {KEY}"}, ["https://u:pw123456@h/v1"]
    )
    text = f"got {KEY} and {AZURE_KEY} from https://u:pw123456@h/v1 (Bearer abcdefghijkl)"
    shown = secrets.redact(text)
    assert KEY not in shown and AZURE_KEY not in shown and "pw123456" not in shown
    assert "abcdefghijkl" not in shown
    url = redact_url("https://user:pw@example.test/v1?api-key=SECRET&api-version=2024")
    assert url == "https://***@example.test/v1?api-key=%2A%2A%2A&api-version=2024"


def test_a_key_echoed_mid_stream_or_in_a_broken_frame_is_redacted() -> None:
    echo = {"error_after": 2, "message": f"upstream refused the key {KEY} for this model"}
    bot = Chatbot.mock(api_key=KEY, failure=echo, display=False)
    with pytest.raises(StreamErrorFrame) as frame:
        bot.ask("hello there")
    assert KEY not in _everything(bot, frame.value) and "upstream refused" in str(frame.value)

    def leaky(request: Any) -> str:
        return f"the key is {KEY}"

    broken = Chatbot.mock(leaky, api_key=KEY, failure={"malformed_after": 1}, display=False)
    with pytest.raises(ChunkValidationError) as malformed:
        broken.ask("hi")
    assert KEY not in _everything(broken, malformed.value)


def test_credentials_in_the_base_url_or_headers_never_show(tmp_path: Path) -> None:
    secret_url = f"http://me:{KEY}@127.0.0.1:9/v1?api-key={AZURE_KEY}"
    client = openai.OpenAI(
        base_url=secret_url,
        api_key=KEY,
        default_headers={"api-key": AZURE_KEY},
        max_retries=0,
    )
    bot = Chatbot("gpt-4o", client=client, display=False)
    with pytest.raises(APIConnectionError) as unreachable:
        bot.ask("hi")
    saved = bot.save(tmp_path / "session.json").read_text()
    for secret in (KEY, AZURE_KEY):
        assert secret not in _everything(bot, unreachable.value) and secret not in saved
    assert "127.0.0.1:9" in str(unreachable.value)  # still says where it tried


def test_a_server_echoing_a_header_key_in_its_401_is_redacted() -> None:
    with MockServer(api_key=KEY) as server:
        client = openai.OpenAI(
            base_url=server.url,
            api_key="wrong-key-0123456789",
            default_headers={"api-key": AZURE_KEY},
            max_retries=0,
        )
        bot = Chatbot("gpt-4o", client=client, display=False)
        with pytest.raises(ChatnbError) as refused:
            bot.ask("hi", extra_headers={"x-api-key": KEY})
    assert KEY not in _everything(bot, refused.value)
    assert "wrong-key-0123456789" not in _everything(bot, refused.value)


def test_an_exception_inside_a_transport_is_one_plain_error_without_the_key() -> None:
    http = library()

    class Failing(http.BaseTransport):  # type: ignore[misc, name-defined]
        def handle_request(self, request: Any) -> Any:
            raise RuntimeError(f"proxy exploded while sending {request.headers['authorization']}")

    client = openai.OpenAI(
        base_url="http://127.0.0.1:9/v1",
        api_key=KEY,
        http_client=http.Client(transport=Failing()),
        max_retries=0,
    )
    bot = Chatbot("gpt-4o", client=client, display=False)
    with pytest.raises(ChatnbError) as failed:
        bot.ask("hi")
    assert KEY not in _everything(bot, failed.value)
    assert "proxy exploded" in str(failed.value) and failed.value._render_traceback_()


def test_the_run_log_keeps_no_header_values(tmp_path: Path) -> None:
    from chatnb import runs

    bot = Chatbot.mock(display=False, cache=tmp_path / "log.sqlite")
    bot.ask("hi", extra_headers={"api-key": AZURE_KEY})
    (entry,) = runs(tmp_path / "log.sqlite")
    assert entry["options"]["extra_headers"] == {"api-key": "***"}
    assert AZURE_KEY not in json.dumps(entry, default=str)
    assert AZURE_KEY.encode() not in (tmp_path / "log.sqlite").read_bytes()
