"""Making tiktoken's vocabularies available without a network.

tiktoken downloads each BPE file on first use and caches it under a name derived from the
file's URL. chatnb keeps that one mechanism and only fills the cache, in this order:

1. the file is already in tiktoken's cache (with the right sha256): nothing to do;
2. a local copy is found, in ``$CHATNB_VOCAB_DIR`` or in a package that ships byte-identical
   copies (``bpe-openai``, installed by ``pip install "chatnb[offline]"``); it is checked
   against the sha256 that tiktoken itself expects, then written to the cache;
3. otherwise, unless ``CHATNB_OFFLINE=1``, the file is downloaded once with a short timeout
   and checked the same way. A failed download leaves a marker in the cache folder, so that
   for a day no other kernel on the machine waits for the network again.

If all three fail, :mod:`chatnb.tokens` falls back to an approximate count with one warning.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

__all__ = ["VOCABULARIES", "Vocabulary", "ensure_vocabulary", "tiktoken_cache_path"]

#: Seconds a download may take before chatnb gives up and counts approximately.
DOWNLOAD_TIMEOUT_S = 3.0
#: After a failed download, other kernels on the machine do not try again for this long.
RETRY_DOWNLOAD_AFTER_S = 24 * 3600.0


class Vocabulary(NamedTuple):
    url: str
    sha256: str


_BLOB = "https://openaipublic.blob.core.windows.net/encodings"
# The URLs and hashes tiktoken uses (tiktoken_ext/openai_public.py); a test checks they agree.
VOCABULARIES: dict[str, Vocabulary] = {
    "o200k_base": Vocabulary(
        f"{_BLOB}/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
    "cl100k_base": Vocabulary(
        f"{_BLOB}/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
}
#: Encodings built on another encoding's BPE file.
_FILE_OF = {"o200k_harmony": "o200k_base"}


def tiktoken_cache_path(url: str) -> Path | None:
    """Where tiktoken caches ``url`` (the rules of ``tiktoken.load.read_file_cached``)."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        cache_dir = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        cache_dir = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if cache_dir == "":
        return None
    return Path(cache_dir) / hashlib.sha1(url.encode()).hexdigest()


def _local_copies(file_name: str) -> Iterator[Path]:
    folders = []
    if os.environ.get("CHATNB_VOCAB_DIR"):
        folders.append(Path(os.environ["CHATNB_VOCAB_DIR"]))
    # Found by location, not imported: importing bpe_openai would load its native tokenizer.
    spec = importlib.util.find_spec("bpe_openai")
    if spec is not None and spec.origin is not None:
        folders.append(Path(spec.origin).parent / "data")
    for folder in folders:
        for candidate in (folder / f"{file_name}.tiktoken", folder / f"{file_name}.tiktoken.gz"):
            if candidate.is_file():
                yield candidate


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    import gzip  # only when a vocabulary is read from a local copy

    return gzip.decompress(data) if path.suffix == ".gz" else data


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        data: bytes = response.read()
        return data


def _failed_recently(marker: Path) -> bool:
    """A download failed on this machine within the last day (a stalled network should cost
    one short wait per machine and day, not one per kernel and vocabulary)."""
    try:
        return time.time() - marker.stat().st_mtime < RETRY_DOWNLOAD_AFTER_S
    except OSError:
        return False


def _remember_failure(marker: Path) -> None:
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass  # a read-only cache: the next kernel tries again, no harm done


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ensure_vocabulary(encoding_name: str, *, allow_download: bool | None = None) -> str | None:
    """Make ``encoding_name`` loadable by tiktoken with no network.

    Returns where the verified file came from (``"cache"``, a local path, or the URL), or
    ``None`` when it could not be had. Encodings chatnb has no hash for are left to tiktoken.
    """
    vocabulary = VOCABULARIES.get(_FILE_OF.get(encoding_name, encoding_name))
    if vocabulary is None:
        return "tiktoken"
    cache = tiktoken_cache_path(vocabulary.url)
    if cache is None:
        return None
    if cache.is_file() and _sha256(cache.read_bytes()) == vocabulary.sha256:
        return "cache"
    sources: list[tuple[str, object]] = [(str(p), p) for p in _local_copies(cache_key(vocabulary))]
    if allow_download is None:
        allow_download = os.environ.get("CHATNB_OFFLINE", "") in ("", "0")
    marker = cache.with_name(f"chatnb-download-failed-{cache_key(vocabulary)}")
    if allow_download and not _failed_recently(marker):
        sources.append((vocabulary.url, vocabulary.url))
    for label, source in sources:
        try:
            data = _read(source) if isinstance(source, Path) else _download(str(source))
        except (OSError, ValueError):
            if not isinstance(source, Path):
                _remember_failure(marker)
            continue
        if _sha256(data) != vocabulary.sha256:
            continue
        try:
            _write_atomically(cache, data)
        except OSError:
            return None
        return label
    return None


def cache_key(vocabulary: Vocabulary) -> str:
    """The file name of a vocabulary (``o200k_base`` for ``…/o200k_base.tiktoken``)."""
    return vocabulary.url.rsplit("/", 1)[-1].removesuffix(".tiktoken")
