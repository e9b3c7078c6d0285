"""What an image in a message costs, by OpenAI's rule for vision models.

An ``image_url`` part with ``detail: "low"`` costs a fixed base. Otherwise the image is scaled
to fit 2048 x 2048, then its shortest side to 768 (never up), and it costs the base plus a
price per 512 x 512 tile it covers (gpt-4o: 85 + 170 per tile; gpt-4o-mini bills 2833 +
5667 per tile, so that its images cost what gpt-4o's do). The size is read from the image
itself when it is sent inline (a ``data:`` URL: PNG, JPEG, GIF, WebP headers); an image sent by
URL, which chatnb does not fetch, is counted as 1024 x 1024.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct

__all__ = ["ASSUMED_SIZE", "image_size", "image_tokens"]

#: The size an image is counted at when it cannot be read (sent by URL).
ASSUMED_SIZE = (1024, 1024)
#: The base and per-tile costs of families that bill images differently from gpt-4o.
_COSTS = {"gpt-4o-mini": (2833, 5667)}
_DEFAULT_COSTS = (85, 170)


def _header(url: str) -> bytes | None:
    """The first bytes of an inline image (enough for any of the headers read below)."""
    if not url.startswith("data:") or "," not in url:
        return None
    meta, data = url[5:].split(",", 1)
    if not meta.endswith(";base64"):
        return None
    try:
        return base64.b64decode(data[:65_536] + "=" * (-len(data[:65_536]) % 4))
    except (binascii.Error, ValueError):
        return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    return None


def image_size(url: str) -> tuple[int, int] | None:
    """Width and height of an inline (``data:``) image, or ``None`` when they cannot be read."""
    data = _header(url)
    if not data:
        return None
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        return _webp_size(data)
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    kind = data[12:16]
    if kind == b"VP8X":  # extended: 24-bit sizes minus one
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if kind == b"VP8 ":  # lossy: 14-bit sizes after the frame tag and start code
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L":  # lossless: 14-bit sizes minus one, packed after the signature byte
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    return None


def image_tokens(
    size: tuple[int, int] | None, detail: str = "auto", family: str | None = None
) -> int:
    """Prompt tokens of one image of ``size`` (``None``: :data:`ASSUMED_SIZE`)."""
    base, per_tile = _COSTS.get(family or "", _DEFAULT_COSTS)
    if detail == "low":
        return base
    pixels_wide, pixels_high = size or ASSUMED_SIZE
    if pixels_wide <= 0 or pixels_high <= 0:
        return base
    fit = min(1.0, 2048 / max(pixels_wide, pixels_high))
    width, height = pixels_wide * fit, pixels_high * fit
    shrink = min(1.0, 768 / min(width, height))
    width, height = width * shrink, height * shrink
    return base + per_tile * math.ceil(width / 512) * math.ceil(height / 512)
