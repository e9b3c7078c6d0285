"""Images in messages are counted by OpenAI's rule (their size read from the image itself),
billed the same by the mock, and shown in transcripts."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from chatnb import Chatbot
from chatnb.images import image_size, image_tokens


def _data_url(size: tuple[int, int], fmt: str) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, format=fmt)
    mime = {"JPEG": "jpeg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}[fmt]
    return f"data:image/{mime};base64," + base64.b64encode(buffer.getvalue()).decode()


def test_openais_documented_examples() -> None:
    assert image_tokens((1024, 1024), "high") == 765
    assert image_tokens((2048, 4096), "high") == 1105
    assert image_tokens((4096, 8192), "low") == 85
    assert image_tokens((1024, 1024), "high", "gpt-4o-mini") == 2833 + 4 * 5667


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_the_size_is_read_from_the_image(fmt: str) -> None:
    assert image_size(_data_url((1200, 700), fmt)) == (1200, 700)
    assert image_size("https://example.test/cat.png") is None


def test_a_200_kb_image_counts_and_shows_and_the_mock_bills_the_same() -> None:
    image = _data_url((1600, 1200), "PNG")
    noise = Image.effect_noise((300, 300), 80).convert("RGB")
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    heavy = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    assert len(heavy) > 100_000
    bot = Chatbot.mock("A red square and some noise.", model="gpt-4o", display=False)
    content = [
        {"type": "text", "text": "What is in these?"},
        {"type": "image_url", "image_url": {"url": image, "detail": "high"}},
        {"type": "image_url", "image_url": {"url": heavy}},
    ]
    bot.history.append({"role": "user", "content": content})
    bot.history.append({"role": "assistant", "content": "Shapes."})
    before = bot.history.tokens()
    assert before > image_tokens((1600, 1200)) + image_tokens((300, 300))  # not 11 tokens
    answer = bot.ask("And now?")
    assert answer.usage is not None
    assert answer.usage.local_prompt_tokens == answer.usage.prompt_tokens  # as the mock bills
    shown = bot.to_markdown()
    assert "What is in these?" in shown and shown.count("*[image: inline]*") == 2
    assert "base64" not in shown
