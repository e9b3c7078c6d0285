"""Prompts as versioned artifacts: what each variant sent (model, system prompt, template,
sampling options, tools), named by the hash of its content, kept in the cache's SQLite file.

Every run of :func:`chatnb.experiment` records its variants' versions (``prompt_versions``:
one row per distinct content; ``experiment_variants``: which run used which); an
:class:`~chatnb.experiments.Experiment` keeps them (``results.prompts``, saved with it), and
its diff against a baseline shows what changed in the prompt beside what changed in the
answers. :func:`prompt_versions` reads the history back.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..options import request_fields
from ..store import Store

if TYPE_CHECKING:
    from ..chatbot import Chatbot

__all__ = ["PromptVersions", "artifact", "prompt_diff", "prompt_versions", "record_versions"]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def artifact(bot: Chatbot, template: str | None) -> dict[str, Any]:
    """What a variant sends, as plain JSON, with ``hash`` (the first 12 hex digits of the
    SHA-256 of the rest): equal content, equal hash, whatever the variant is called."""
    content: dict[str, Any] = {
        "model": bot.model,
        "system": bot.history.system,
        "template": template,
        "options": json.loads(_canonical(request_fields(bot.sampling))),
        "tools": sorted(bot.tools.functions) + sorted(str(t) for t in bot.tools.declared),
    }
    digest = hashlib.sha256(_canonical(content).encode()).hexdigest()[:12]
    return {"hash": digest, **content}


def _lines(version: Mapping[str, Any]) -> list[str]:
    """A version as lines a person diffs: the prompt texts whole, the settings one a line."""
    lines = [f"model: {version.get('model')}"]
    for name, value in sorted((version.get("options") or {}).items()):
        lines.append(f"{name}: {_canonical(value)}")
    if version.get("tools"):
        lines.append(f"tools: {', '.join(version['tools'])}")
    for part in ("system", "template"):
        text = version.get(part)
        lines.append(f"{part}:" if text is not None else f"{part}: (none)")
        lines += [f"  {line}" for line in (text or "").splitlines()] if text else []
    return lines


def prompt_diff(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> str:
    """A unified diff of two versions ('' when their hashes are equal)."""
    if before is not None and before.get("hash") == after.get("hash"):
        return ""
    old = _lines(before) if before is not None else []
    then = f"before ({before['hash']})" if before is not None else "before (none)"
    lines = difflib.unified_diff(old, _lines(after), then, f"now ({after.get('hash')})", n=2)
    return "\n".join(line.rstrip("\n") for line in lines)


def record_versions(store: Store, run: str, versions: Mapping[str, Mapping[str, Any]]) -> None:
    """Keep each variant's version (once per content) and which run used it; a file that
    cannot take them is a warning, never a failed experiment."""
    at = time.time()
    try:
        with store.lock, store.db:
            for variant, version in versions.items():
                content = {k: v for k, v in version.items() if k != "hash"}
                store.db.execute(
                    "INSERT OR IGNORE INTO prompt_versions VALUES (?, ?, ?)",
                    (version["hash"], _canonical(content), at),
                )
                store.db.execute(
                    "INSERT INTO experiment_variants VALUES (?, ?, ?, ?)",
                    (run, at, variant, version["hash"]),
                )
    except sqlite3.Error as failed:
        store.unwritten("the experiment's prompt versions", failed)


class PromptVersions(list[dict[str, Any]]):
    """Prompt versions as records (oldest first); ``diff(a, b)`` between two hashes."""

    def get(self, digest: str) -> dict[str, Any]:
        for version in self:
            if version["hash"].startswith(digest):
                return version
        raise KeyError(f"No prompt version's hash starts with {digest!r}")

    def diff(self, before: str, after: str) -> str:
        return prompt_diff(self.get(before), self.get(after))


def prompt_versions(path: str | Path) -> PromptVersions:
    """Every prompt version kept in ``path``, with the variants and runs that used it."""
    store = Store(path)
    with store.lock:
        rows = store.db.execute(
            "SELECT hash, content, first_at FROM prompt_versions ORDER BY first_at, hash"
        ).fetchall()
        used = store.db.execute("SELECT hash, variant, run FROM experiment_variants").fetchall()
    found = PromptVersions()
    for digest, content, first in rows:
        names = sorted({v for h, v, _ in used if h == digest})
        runs = sorted({r for h, _, r in used if h == digest})
        found.append(
            {"hash": digest, **json.loads(content), "first_at": first, "variants": names,
             "runs": runs}
        )  # fmt: skip
    return found
