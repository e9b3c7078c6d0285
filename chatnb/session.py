"""A conversation on disk and on paper: the saved-session file and the Markdown transcript.

A saved session is JSON: the format tag, the saved settings (the model and its limits, the
request options, ...: :meth:`chatnb.settings.Settings.saved`, each under its own name), the
base URL it talked to (information only, its credentials redacted) and the messages with
their notes. It never holds a key: the client options that could carry one (``extra_headers``, ...)
are not request fields and are not saved.

A file is data, not instructions: reading one takes only the known fields, checks each with
the same models as everything else (the options must be request fields, the messages valid
messages), and refuses files too large or nested too deeply, with an error that says what is
wrong. Where to connect is never taken from the file (see ``Chatbot.load``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .errors import ChatnbError
from .history import History
from .redaction import redact_url
from .settings import Settings, read_saved

__all__ = ["MAX_SESSION_BYTES", "SESSION_FORMAT", "Session", "transcript"]

#: The format tag of a saved session.
SESSION_FORMAT = "chatnb.session/1"
#: The largest session file read (a conversation of a few million tokens is far below it).
MAX_SESSION_BYTES = 64 * 2**20


class Session(BaseModel):
    """The contents of a saved session file: the saved :class:`~chatnb.settings.Settings`
    (each under its own name, beside these fields) and the conversation."""

    # The saved settings are the extra fields: written and read by Settings' own list.
    model_config = ConfigDict(extra="allow")

    format: Literal["chatnb.session/1"]
    model: str
    base_url: str = ""
    sampling: dict[str, Any] = {}
    messages: list[dict[str, Any]] = []
    notes: dict[str, str] = {}
    reasoning: dict[str, str] = {}

    @classmethod
    def of(cls, history: History, settings: Settings, *, base_url: str = "") -> Session:
        """The session of ``history`` (its messages and notes) with the Chatbot's settings."""
        notes = {str(i): note for i, m in enumerate(history) if (note := history.note(m))}
        reasoning = {str(i): text for i, m in enumerate(history) if (text := history.reasoning(m))}
        return cls(
            format=SESSION_FORMAT,
            base_url=base_url,
            messages=history.to_list(),
            notes=notes,
            reasoning=reasoning,
            **settings.saved(),
        )

    def settings(self) -> dict[str, Any]:
        """The Chatbot settings saved in the session, as the constructor takes them (a setting
        the file lacks, one saved before it existed, keeps the constructor's default)."""
        saved = read_saved(dict(self))
        sampling = saved.pop("sampling", {})
        return {**saved, **sampling}

    def restore(self, history: History, path: str | Path = "the session") -> None:
        """Put the saved system prompt and messages, with their notes, into ``history``; a
        message that is not a valid one is a clear error."""
        messages = list(self.messages)
        if messages and messages[0].get("role") == "system":
            system = messages.pop(0).get("content")
            if not isinstance(system, str):
                raise ChatnbError(
                    f"{path} is a damaged chatnb session: the system prompt is not text."
                )
            history.system = system
        for index, message in enumerate(messages):
            key = str(index)
            try:
                history.append(message, note=self.notes.get(key), reasoning=self.reasoning.get(key))
            except ValidationError as invalid:
                first = invalid.errors(include_url=False)[0]
                raise ChatnbError(
                    f"{path} is a damaged chatnb session: message {index}: {first['msg']}."
                ) from None

    def write(self, path: str | Path) -> Path:
        target = Path(path)
        target.write_text(self.model_dump_json(indent=1) + "\n")
        return target

    @field_validator("sampling")
    @classmethod
    def _only_request_options(cls, sampling: dict[str, Any]) -> dict[str, Any]:
        from .options import CLIENT_OPTIONS, SET_BY_CHATBOT, openai_request_fields

        allowed = openai_request_fields() - SET_BY_CHATBOT - CLIENT_OPTIONS
        unknown = sorted(set(sampling) - allowed)
        if unknown:
            raise ValueError(f"not request options: {', '.join(map(repr, unknown))}")
        return sampling

    @classmethod
    def read(cls, path: str | Path) -> Session:
        """The session saved at ``path``; a clear error when it is not one."""
        source = Path(path)
        if source.stat().st_size > MAX_SESSION_BYTES:
            raise ChatnbError(
                f"{path} is larger than a saved session can be ({MAX_SESSION_BYTES:,} bytes)."
            )
        try:
            data = json.loads(source.read_text())
        except RecursionError:
            raise ChatnbError(f"{path} is not a saved chatnb session: nested too deeply.") from None
        except ValueError as invalid:
            raise ChatnbError(f"{path} is not a saved chatnb session: {invalid}.") from None
        if not isinstance(data, dict) or data.get("format") != SESSION_FORMAT:
            raise ChatnbError(f"{path} is not a saved chatnb session ({SESSION_FORMAT}).")
        try:
            session = cls.model_validate(data)
            # Each saved setting checked now, as the constructor checks it.
            Settings(**read_saved(dict(session)))
        except ValidationError as invalid:
            first = invalid.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ChatnbError(
                f"{path} is a damaged chatnb session: {where}: {first['msg']}."
            ) from None
        except (ValueError, TypeError) as invalid:  # a saved setting, named in the message
            raise ChatnbError(f"{path} is a damaged chatnb session: {invalid}.") from None
        return session


def _readable(content: str | list[dict[str, Any]] | None) -> str:
    """A message's content for people: its text, and a line for each image or other part
    (never the image's data)."""
    if content is None or isinstance(content, str):
        return content or ""
    parts = []
    for part in content:
        kind = part.get("type")
        if kind == "text":
            parts.append(str(part.get("text", "")))
        elif kind == "image_url":
            url = str((part.get("image_url") or {}).get("url", ""))
            where = "inline" if url.startswith("data:") else redact_url(url)
            parts.append(f"*[image: {where}]*")
        else:
            parts.append(f"*[{kind}]*")
    return "\n\n".join(parts)


def _call(name: str) -> str:
    from .markdown.safety import escape_text  # the Markdown tools load when a transcript is made

    return f"*[tool call: {escape_text(name, 80)}]*"


def transcript(history: History, *, safe: bool = True) -> str:
    """The conversation as a readable Markdown transcript (noted answers marked).

    ``safe`` (the default): in safe mode, as an answer is shown while it streams (raw HTML as
    text, remote images as links, no script links), so that rendering the transcript in a
    cell runs and fetches nothing. The whole transcript is rewritten at once, not message by
    message: a fence one message leaves open changes how the next one is read."""
    sections = [f"**system**\n\n{history.system}"] if history.system else []
    for message in history:
        note = history.note(message)
        title = f"**{message.role}**" + (f" ({note})" if note else "")
        content = _readable(message.content)
        calls = [_call(c.function.name) for c in message.tool_calls or ()]
        content = "\n\n".join(filter(None, [content, *calls]))
        reasoning = history.reasoning(message)
        if reasoning:
            content = (
                f"<details><summary>Thinking</summary>\n\n{reasoning}\n\n</details>\n\n{content}"
            )
        sections.append(f"{title}\n\n{content}")
    text = "\n\n---\n\n".join(sections) + "\n"
    from .markdown import neutralize

    return neutralize(text) if safe else text
