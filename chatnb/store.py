"""The SQLite file that keeps recordings and the run log: one file, safe to share.

WAL (readers never wait for the writer), a busy timeout (two kernels on one file take turns),
a format tag (a file that is not chatnb's is refused before anything is written to it), and one
lock per connection, so the threads of one kernel can share it.

A file that cannot be written once it is open (a full disk, a file made read-only, a damaged
page) costs a recording or a log line, never an answer: writers warn with
:class:`~chatnb.errors.CacheWriteWarning` (:meth:`Store.unwritten`) and go on. A recording that
cannot be read is a :class:`~chatnb.errors.CacheReadError` that names the file.
"""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import CacheReadError, CacheWriteWarning, ChatnbError

__all__ = ["FORMAT", "MIGRATIONS", "Recording", "Store"]

FORMAT = "chatnb.cache/1"

#: The schema, step by step: the statements that take a file from one version to the next.
MIGRATIONS: list[list[str]] = [
    # 1: recorded answers
    [
        "CREATE TABLE IF NOT EXISTS recordings (key TEXT NOT NULL, sample INTEGER NOT NULL, "
        "request TEXT NOT NULL, status INTEGER NOT NULL, content_type TEXT NOT NULL, "
        "body BLOB NOT NULL, cuts TEXT NOT NULL, recorded_at REAL NOT NULL, "
        "PRIMARY KEY (key, sample))"
    ],
    # 2: the run log; messages are stored once, by content hash
    [
        "CREATE TABLE IF NOT EXISTS messages (hash TEXT PRIMARY KEY, message TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT "
        "NULL, model TEXT NOT NULL, host TEXT, options TEXT NOT NULL, messages TEXT NOT NULL, "
        "outcome TEXT NOT NULL, answer TEXT, reasoning TEXT, tool_calls TEXT, finish_reason "
        "TEXT, prompt_tokens INTEGER, completion_tokens INTEGER, reasoning_tokens INTEGER, "
        "cost_usd REAL, ttft_s REAL, total_s REAL, cache TEXT, notebook TEXT, cell TEXT, "
        "error TEXT)",
        "CREATE INDEX IF NOT EXISTS runs_by_model ON runs (model, at)",
    ],
    # 3: experiments' prompt versions, by content hash, and which run used which
    [
        "CREATE TABLE IF NOT EXISTS prompt_versions (hash TEXT PRIMARY KEY, content TEXT NOT "
        "NULL, first_at REAL NOT NULL)",
        "CREATE TABLE IF NOT EXISTS experiment_variants (run TEXT NOT NULL, at REAL NOT NULL, "
        "variant TEXT NOT NULL, hash TEXT NOT NULL)",
    ],
]


@dataclass(frozen=True)
class Recording:
    """An answer as the server sent it: the body, and where each piece ended and when."""

    status: int
    content_type: str
    body: bytes
    cuts: list[tuple[int, float]]

    def pieces(self) -> Iterator[tuple[bytes, float]]:
        start = 0
        for end, delay in self.cuts:
            yield self.body[start:end], delay
            start = end


class Store:
    """The SQLite file: WAL, a busy timeout, a versioned schema; a foreign file is refused."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.lock = threading.Lock()
        import sqlite3  # loaded with the first cache, not with chatnb

        self.db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        try:
            self._check_or_create()
        except sqlite3.DatabaseError as error:
            self.db.close()
            raise ChatnbError(
                f"{self.path} is not a chatnb cache, or it is damaged ({error}); it was left "
                "as it is. Give the cache another file."
            ) from None

    def _check_or_create(self) -> None:
        import sqlite3

        # Read before writing anything: a foreign file must stay byte for byte as it was.
        tables = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master")}
        if tables and "chatnb_meta" not in tables:
            raise sqlite3.DatabaseError("it holds other tables")
        self.db.execute("PRAGMA busy_timeout = 30000")
        self._journal_wal()
        # One transaction that takes the write lock first: two kernels opening a new file at
        # once take turns (BEGIN IMMEDIATE waits out the busy timeout), where a transaction
        # that reads and then writes fails at once if the other wrote in between.
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS chatnb_meta (name TEXT PRIMARY KEY, value TEXT)"
            )
            self.db.execute("INSERT OR IGNORE INTO chatnb_meta VALUES ('format', ?)", (FORMAT,))
            (found,) = self.db.execute(
                "SELECT value FROM chatnb_meta WHERE name = 'format'"
            ).fetchone()
            if found != FORMAT:
                raise sqlite3.DatabaseError(f"its format is {found!r}, not {FORMAT!r}")
            self._migrate()

    def _journal_wal(self) -> None:
        """WAL, so that readers never wait for a writer. Switching takes a lock for which
        SQLite does not always call the busy handler: tried again until the busy timeout."""
        import sqlite3

        deadline = time.monotonic() + 30
        while True:
            try:
                self.db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _migrate(self) -> None:
        """Bring the schema up to :data:`MIGRATIONS`' last version, in the caller's
        transaction."""
        import sqlite3

        row = self.db.execute("SELECT value FROM chatnb_meta WHERE name = 'schema'").fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise sqlite3.DatabaseError(f"it was written by a newer chatnb (schema {version})")
        for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in statements:
                self.db.execute(statement)
            self.db.execute(
                "INSERT OR REPLACE INTO chatnb_meta VALUES ('schema', ?)", (str(number),)
            )

    def get(self, key: str, sample: int) -> Recording | None:
        import sqlite3

        """The recording of ``key``'s ``sample``, if there is one; a :class:`CacheReadError`
        that names the file when it cannot be read."""
        try:
            with self.lock:
                row = self.db.execute(
                    "SELECT status, content_type, body, cuts FROM recordings "
                    "WHERE key = ? AND sample = ?",
                    (key, sample),
                ).fetchone()
            if row is None:
                return None
            status, content_type, body, cuts = row
            return Recording(status, content_type, body, [tuple(c) for c in json.loads(cuts)])
        except (sqlite3.Error, ValueError, TypeError) as failed:
            raise CacheReadError(
                f"The cache file {self.path} could not be read: it is damaged or unreadable "
                f"({type(failed).__name__}: {failed}). Nothing was asked. Move the file away, "
                "or give the cache another file (cache=...), and ask again."
            ) from None

    def unwritten(self, what: str, failed: Exception) -> None:
        """Warn, in plain words, that ``what`` could not be written to the file."""
        warnings.warn(
            f"chatnb could not write {what} to the cache file {self.path} "
            f"({type(failed).__name__}: {failed}); the answer itself is not affected. Is the "
            "disk full, or the file read-only or damaged? Give the cache another file "
            "(cache=...) to record again.",
            CacheWriteWarning,
            stacklevel=2,
        )

    def put(self, key: str, sample: int, request: str, recording: Recording) -> None:
        with self.lock, self.db:  # one transaction: all of the recording, or none of it
            self.db.execute(
                "INSERT OR REPLACE INTO recordings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    sample,
                    request,
                    recording.status,
                    recording.content_type,
                    recording.body,
                    json.dumps(recording.cuts),
                    time.time(),
                ),
            )

    def __len__(self) -> int:
        with self.lock:
            (count,) = self.db.execute("SELECT COUNT(*) FROM recordings").fetchone()
        return int(count)
