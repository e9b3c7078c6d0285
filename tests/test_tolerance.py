"""Where real servers differ from OpenAI and the answer is still a good one: a finish_reason
repeated on the usage chunk, TGI's ``eos_token``, one JSON completion where a stream was asked
for, and a server that goes quiet (a read timeout, said as such)."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from chatnb import Chatbot
from chatnb.errors import ConnectionDroppedError, StreamContradictionError
from chatnb.openai_private import library
from chatnb.schema import ChatCompletionChunk
from chatnb.stream import StreamAccumulator, parse_chunk

from .servers import RecordingServer


def _chunk(choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> str:
    fields: dict[str, Any] = {
        "id": "chatcmpl-t",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "tgi",
        "choices": choices,
    }
    if usage:
        fields["usage"] = usage
    return json.dumps(fields)


def _choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}


TGI: dict[str, Any] = {
    "context_window": 8_000,
    "max_output_tokens": 1_000,
    "encoding": "o200k_base",
}
USAGE = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}


def _stream(*frames: str) -> bytes:
    return b"".join(f"data: {f}\n\n".encode() for f in (*frames, "[DONE]"))


def _ask(body: bytes, content_type: str = "text/event-stream") -> tuple[Any, Chatbot]:
    with RecordingServer(body, content_type=content_type) as server:
        client = openai.OpenAI(base_url=server.url, api_key="sk-local", max_retries=0)
        bot = Chatbot("tgi", client=client, display=False, **TGI)
        return bot.ask("Hi"), bot


def test_a_finish_reason_repeated_on_the_usage_chunk_is_the_same_end() -> None:
    body = _stream(
        _chunk([_choice({"role": "assistant", "content": "Hello"})]),
        _chunk([_choice({}, "stop")]),
        _chunk([_choice({}, "stop")], USAGE),  # as some servers send it
    )
    answer, bot = _ask(body)
    assert answer == "Hello" and answer.finish_reason == "stop"
    assert answer.usage is not None and answer.usage.completion_tokens == 2
    assert bot.history.note(bot.history.last) is None  # type: ignore[arg-type]  # not "failed"
    accumulator = StreamAccumulator()
    accumulator.add(parse_chunk(_chunk([_choice({"content": "x"}, "stop")])))
    with pytest.raises(StreamContradictionError, match="second finish_reason"):
        accumulator.add(parse_chunk(_chunk([_choice({}, "length")])))


def test_tgis_eos_token_ends_an_answer_as_stop_and_is_kept() -> None:
    last = _chunk([_choice({}, "eos_token")], USAGE)
    body = _stream(_chunk([_choice({"role": "assistant", "content": "Done."})]), last)
    answer, _ = _ask(body)
    assert answer == "Done." and answer.finish_reason == "stop"
    chunk = ChatCompletionChunk.model_validate_json(last)
    assert chunk.choices[0].finish_reason == "stop"
    assert (chunk.choices[0].model_extra or {})["native_finish_reason"] == "eos_token"


def test_one_json_completion_for_a_streamed_request_is_accepted() -> None:
    completion = {
        "id": "chatcmpl-whole",
        "object": "chat.completion",
        "created": 1,
        "model": "tgi",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "All at once."},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }
    answer, bot = _ask(json.dumps(completion).encode(), "application/json")
    assert answer == "All at once." and answer.finish_reason == "stop"
    assert bot.history.last.content == "All at once."  # type: ignore[union-attr]
    assert answer.usage is not None and answer.usage.prompt_tokens == 5


def test_a_server_that_goes_quiet_is_a_timeout_in_plain_words() -> None:
    body = _stream(
        _chunk([_choice({"role": "assistant", "content": "Thinking"})]),
        _chunk([_choice({"content": " hard"})]),
        _chunk([_choice({}, "stop")]),
    )
    with RecordingServer(body, frame_delay_s=1.5) as server:
        client = openai.OpenAI(
            base_url=server.url,
            api_key="sk-local",
            max_retries=0,
            timeout=library().Timeout(5.0, read=0.5),  # httpx2, or httpx under openai 2.x
        )
        bot = Chatbot("tgi", client=client, display=False, **TGI)
        with pytest.raises(ConnectionDroppedError, match="went quiet") as quiet:
            bot.ask("Hi")
    assert "ReadTimeout" in str(quiet.value)


def test_unicode_line_separators_inside_a_frame_are_not_line_breaks() -> None:
    text = "one\u2028two\u2029three\x85four\x0cfive"
    body = _stream(
        _chunk([_choice({"role": "assistant", "content": text})]), _chunk([_choice({}, "stop")])
    )
    answer, _ = _ask(body)
    assert answer == text
    assert Chatbot.mock(text, display=False).ask("x") == text  # the mock's frames carry it raw
