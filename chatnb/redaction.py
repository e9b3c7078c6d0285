"""One redaction for everything chatnb shows or keeps: errors, reprs, saved sessions, logs.

A :class:`Secrets` knows what must never be shown for one client: its API key, the values of
its credential headers (Azure's ``api-key``, an ``Authorization`` of a proxy, ``x-api-key``),
and credentials in its base URL (``https://user:password@host``, ``?api-key=...``). Its
:meth:`~Secrets.redact` removes those, and anything shaped like an OpenAI key besides, from any
text; :func:`redact_url` removes the credentials of a URL that has no client behind it (a
saved session's, say).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "CREDENTIAL_OPTIONS",
    "SECRET_WORDS",
    "Secrets",
    "is_secret_name",
    "masked_options",
    "redact_url",
]

#: Parts of header and query-parameter names that carry credentials.
SECRET_WORDS = ("key", "token", "secret", "signature", "sig", "password", "auth", "credential")
_KEYLIKE = re.compile(r"\b((?:sk|rk|pk)-[A-Za-z0-9_*\-]{2})[A-Za-z0-9_*\-]{6,}")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}")
#: Request options whose values are headers or query parameters: where per-request
#: credentials travel.
CREDENTIAL_OPTIONS = ("extra_headers", "extra_query")
#: Shorter values are not worth hunting for in a text (they would match ordinary words).
_SHORTEST = 6


def is_secret_name(name: str) -> bool:
    """Whether a header or query parameter of this name carries a credential."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def redact_url(url: str) -> str:
    """``url`` without its user info and without the values of credential-like parameters."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<a URL that could not be read>"
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"***@{host}" if "@" in parts.netloc else host
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if is_secret_name(k) else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def masked_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Request options as a log or a repr may show them: the names of the headers and query
    parameters they add, never the values (a per-request credential is not always named as
    one)."""
    shown = dict(options)
    for name in CREDENTIAL_OPTIONS:
        if isinstance(shown.get(name), Mapping):
            shown[name] = {key: "***" for key in shown[name]}
    return shown


def _url_secrets(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [v for v in (parts.username, parts.password) if v]
    found += [v for k, v in parse_qsl(parts.query) if is_secret_name(k)]
    return found


@dataclass(frozen=True)
class Secrets:
    """The secrets of one client, and the redaction that hides them."""

    values: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        api_key: str | None = None,
        headers: Mapping[str, Any] | None = None,
        urls: Iterable[str] = (),
    ) -> Secrets:
        found = [api_key or ""]
        for name, value in (headers or {}).items():
            if is_secret_name(name) and isinstance(value, str):
                found += [value, value.split(" ", 1)[-1]]  # "Bearer x": x alone too
        for url in urls:
            found += _url_secrets(url)
        useful = {v for v in found if len(v) >= _SHORTEST}
        return cls(tuple(sorted(useful, key=len, reverse=True)))  # longest first

    @classmethod
    def of_client(
        cls, api_key: str | None, base_url: str, headers: dict[str, str], query: dict[str, object]
    ) -> Secrets:
        """The secrets an openai client sends: its key, credential headers and query values,
        URL credentials."""
        secrets = cls.of(api_key, headers, [base_url])
        extra = [str(v) for k, v in query.items() if is_secret_name(str(k))]
        return cls(tuple(sorted({*secrets.values, *extra}, key=len, reverse=True)))

    def __add__(self, other: Secrets) -> Secrets:
        return Secrets(tuple(sorted({*self.values, *other.values}, key=len, reverse=True)))

    def redact(self, text: str) -> str:
        """``text`` without these secrets, bearer credentials, or anything shaped like a key."""
        for value in self.values:
            text = text.replace(value, "***")
        text = _BEARER.sub(r"\1 ***", text)
        return _KEYLIKE.sub(r"\1***", text)

    def __repr__(self) -> str:
        return f"Secrets({len(self.values)} hidden)"
