"""The run log: every exchange a cached Chatbot makes, kept in the cache's SQLite file.

What was asked (the model, the options, the messages), what came back (the answer, the
reasoning, the tool calls, how it ended), what it cost (tokens, dollars, seconds) and where
(the server's host, whether the cache answered, the notebook and cell when known). Messages
are stored once by content hash, since each ask re-sends the conversation so far. It is plain
SQLite: ``chatnb.runs(path)`` reads it back, and so does any SQLite tool.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from .options import SET_BY_CHATBOT
from .redaction import masked_options
from .store import Store

if TYPE_CHECKING:
    import sqlite3

__all__ = ["Entry", "RunLog", "Runs", "runs"]

_COLUMNS = (
    "at", "model", "host", "options", "messages", "outcome", "answer", "reasoning",
    "tool_calls", "finish_reason", "prompt_tokens", "completion_tokens", "reasoning_tokens",
    "cost_usd", "ttft_s", "total_s", "cache", "notebook", "cell", "error",
)  # fmt: skip
_INSERT = f"INSERT INTO runs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


class Measured(Protocol):
    """What the log keeps of an answer's usage (:class:`chatnb.usage.TurnUsage`)."""

    @property
    def billed_prompt_tokens(self) -> int: ...
    @property
    def billed_completion_tokens(self) -> int: ...
    @property
    def reasoning_tokens(self) -> int | None: ...
    @property
    def cost_usd(self) -> float | None: ...
    @property
    def ttft_s(self) -> float | None: ...
    @property
    def total_s(self) -> float | None: ...


@dataclass(frozen=True)
class Entry:
    """One exchange, as the log keeps it (``messages`` are the messages themselves)."""

    model: str
    host: str | None
    options: Mapping[str, Any]
    messages: list[dict[str, Any]]
    outcome: str  # "answered", "failed" or "interrupted"
    answer: str = ""
    reasoning: str = ""
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost_usd: float | None = None
    ttft_s: float | None = None
    total_s: float | None = None
    cache: str | None = None
    error: str | None = None

    @classmethod
    def of(
        cls,
        request: Mapping[str, Any],
        base_url: str,
        outcome: str,
        *,
        usage: Measured | None = None,
        elapsed_s: float | None = None,
        **fields: Any,
    ) -> Entry:
        """The entry of one request: its options (credential values masked), messages and
        host, its outcome, and ``usage``'s figures (else ``elapsed_s`` as its time)."""
        options = {k: v for k, v in request.items() if k not in SET_BY_CHATBOT}  # not options
        figures: dict[str, Any] = {"total_s": elapsed_s}
        if usage is not None:
            figures = {
                "prompt_tokens": usage.billed_prompt_tokens,
                "completion_tokens": usage.billed_completion_tokens,
                "reasoning_tokens": usage.reasoning_tokens,
                "cost_usd": usage.cost_usd,
                "ttft_s": usage.ttft_s,
                "total_s": usage.total_s,
            }
        return cls(
            model=str(request["model"]),
            host=RunLog.host(base_url),
            options=masked_options(options),
            messages=request["messages"],
            outcome=outcome,
            **fields,
            **figures,
        )


def _where_in_a_notebook() -> tuple[str | None, str | None]:
    """The notebook's path and the running cell's id, when a Jupyter frontend said them."""
    notebook = os.environ.get("JPY_SESSION_NAME")
    cell = None
    try:
        from IPython import get_ipython

        shell = get_ipython()
        header = getattr(shell, "parent_header", None) or {}
        cell = header.get("metadata", {}).get("cellId")
    except ImportError:
        pass
    return notebook, cell


class RunLog:
    """Appends exchanges to the ``runs`` table of a cache's file."""

    def __init__(self, store: Store) -> None:
        self.store = store  # its schema has the runs and messages tables (store.MIGRATIONS)

    def append(self, entry: Entry) -> None:
        """Log ``entry``; a file that cannot take it is a warning, never a failed answer."""
        import sqlite3  # loaded already: the store opened the file

        try:
            self._insert(entry)
        except sqlite3.Error as failed:
            self.store.unwritten("the run log's line for this exchange", failed)

    def _insert(self, entry: Entry) -> None:
        hashes, new = [], []
        for message in entry.messages:
            text = json.dumps(message, sort_keys=True, ensure_ascii=False)
            digest = hashlib.sha256(text.encode()).hexdigest()
            hashes.append(digest)
            new.append((digest, text))
        notebook, cell = _where_in_a_notebook()
        row = (
            time.time(),
            entry.model,
            entry.host,
            json.dumps(entry.options, sort_keys=True, default=str),
            json.dumps(hashes),
            entry.outcome,
            entry.answer,
            entry.reasoning,
            json.dumps(entry.tool_calls) if entry.tool_calls else None,
            entry.finish_reason,
            entry.prompt_tokens,
            entry.completion_tokens,
            entry.reasoning_tokens,
            entry.cost_usd,
            entry.ttft_s,
            entry.total_s,
            entry.cache,
            notebook,
            cell,
            entry.error,
        )
        with self.store.lock, self.store.db:  # one transaction: the run and its messages
            self.store.db.executemany("INSERT OR IGNORE INTO messages VALUES (?, ?)", new)
            self.store.db.execute(_INSERT, row)

    @staticmethod
    def host(base_url: str) -> str | None:
        return urlsplit(base_url).hostname


#: The columns a notebook shows for the run log (every field stays in the records).
SHOWN = ("id", "when", "model", "outcome", "question", "answer", "tokens", "cost_usd", "total_s")


def _short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _shown(record: Mapping[str, Any]) -> dict[str, Any]:
    """One run as a row a person reads: the last question and the answer, shortened."""
    asked = [m for m in record["messages"] if m.get("role") == "user"]
    question = _short(str(asked[-1].get("content", ""))) if asked else ""
    tokens = f"{record['prompt_tokens'] or 0:,} → {record['completion_tokens'] or 0:,}"
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record["at"]))
    values = [record["id"], when, record["model"], record["outcome"], question,
              _short(record["answer"] or record["error"] or ""), tokens, record["cost_usd"],
              record["total_s"]]  # fmt: skip
    return dict(zip(SHOWN, values, strict=True))


class Runs(list[dict[str, Any]]):
    """Runs as records (newest last); a table in a notebook; ``to_dataframe()`` (every field)
    when pandas is installed."""

    def to_dataframe(self) -> Any:
        import pandas

        return pandas.DataFrame(self)

    def _repr_html_(self) -> str | None:
        """The table as pandas draws it, when pandas is installed (else the Markdown one)."""
        try:
            import pandas
        except ImportError:
            return None
        frame = pandas.DataFrame([_shown(r) for r in self], columns=list(SHOWN))
        html: str = frame.set_index("id").to_html()  # escapes the cells
        return html

    def _repr_markdown_(self) -> str:
        from .markdown.safety import escape_text  # loaded when a table is shown, not with chatnb

        lines = ["| " + " | ".join(SHOWN) + " |", "|" + "---|" * len(SHOWN)]
        for record in self:
            row = _shown(record)
            cells = [escape_text("" if v is None else str(v), 60) for v in row.values()]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + f"\n\n{len(self)} runs."


def runs(
    path: str | Path,
    *,
    model: str | None = None,
    since: float | None = None,
    text: str | None = None,
) -> Runs:
    """The exchanges logged in ``path``: all, or those of ``model``, after ``since`` (a Unix
    time), or whose question or answer contains ``text``.

    Args:
        path: A cache file (``cache=`` or ``CHATNB_CACHE``): every exchange through a cached
            Chatbot is logged there.
        model: Only the exchanges of this model.
        since: Only the exchanges after this Unix time (``time.time()``).
        text: Only the exchanges whose question or answer contains this text."""
    store = Store(path)
    clauses: list[str] = ["1 = 1"]
    parameters: list[Any] = []
    if model is not None:
        clauses.append("model = ?")
        parameters.append(model)
    if since is not None:
        clauses.append("at >= ?")
        parameters.append(since)
    query = f"SELECT id, {', '.join(_COLUMNS)} FROM runs WHERE {' AND '.join(clauses)} ORDER BY id"
    with store.lock:
        rows = store.db.execute(query, parameters).fetchall()
        found = Runs(_record(store.db, row) for row in rows)
    if text is not None:
        found = Runs(
            r
            for r in found
            if text in r["answer"] or any(text in str(m.get("content", "")) for m in r["messages"])
        )
    return found


def _record(db: sqlite3.Connection, row: tuple[Any, ...]) -> dict[str, Any]:
    record = dict(zip(["id", *_COLUMNS], row, strict=True))
    record["options"] = json.loads(record["options"])
    record["tool_calls"] = json.loads(record["tool_calls"]) if record["tool_calls"] else None
    hashes = json.loads(record["messages"])
    texts = dict(_lookup(db, hashes))
    record["messages"] = [json.loads(texts[h]) for h in hashes]
    return record


def _lookup(db: sqlite3.Connection, hashes: list[str]) -> Iterator[tuple[str, str]]:
    marks = ", ".join("?" * len(hashes))
    if hashes:
        yield from db.execute(f"SELECT hash, message FROM messages WHERE hash IN ({marks})", hashes)
