"""The openai clients of a Chatbot: a sync and an async one that agree on everything.

A Chatbot asks with a sync client (``ask``) and an async one (``aask``, the widget,
``compare``). Both are built from one :class:`ClientSpec`, so nothing (a header, a query
parameter, a timeout, a transport) can be set on one and lost on the other. A spec is read off
a client the caller configured (:meth:`ClientSpec.of`), or written by chatnb itself (the
embedded mock gives its in-process transports here).

The transports are the seam: a spec carries the pair of transports (of the HTTP library the
installed openai uses, :mod:`chatnb.openai_private`) both clients send through, so whatever wraps a
transport (the mock today) covers every caller of either client.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import openai_private
from .cache import Cache
from .errors import ChatnbError
from .openai_private import library
from .redaction import Secrets
from .runlog import RunLog

if TYPE_CHECKING:
    import httpx2
    import openai

__all__ = ["DEFAULT_BASE_URL", "ClientSpec", "Clients", "Transports", "default_timeout"]

_Client = TypeVar("_Client", "openai.OpenAI", "openai.AsyncOpenAI")

#: Where the openai client sends requests when no base URL is set.
DEFAULT_BASE_URL = "https://api.openai.com/v1"


#: Seconds to connect, and to wait for the next bytes of an answer (the first ones included):
#: long enough for a thinking model that reasons before it streams, short enough that a server
#: that never answers frees the cell in minutes, not the openai default's 10 minutes per try.
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 180.0


def default_timeout() -> Any:
    """The timeout of the clients chatnb builds (a client you pass keeps its own)."""
    from .openai_private import library

    return library().Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)


@dataclass(frozen=True)
class Transports:
    """The sync and async transports that both clients of a spec send through."""

    sync: httpx2.BaseTransport
    asynchronous: httpx2.AsyncBaseTransport


# The specs of the http clients chatnb built, so that a client made from a spec (a mock
# client handed to a Chatbot) still has its async twin.
_BUILT: weakref.WeakKeyDictionary[Any, ClientSpec] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class ClientSpec:
    """Everything an openai client is built from (the key is never shown in a repr)."""

    api_key: str = field(repr=False)
    base_url: str | None = None
    organization: str | None = None
    project: str | None = None
    timeout: Any = None
    max_retries: int = 2
    default_headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    default_query: Mapping[str, object] = field(default_factory=dict)
    transports: Transports | None = None
    #: The openai client's strict validation of responses (its ``_strict_response_validation``).
    strict: bool = False

    def _options(self) -> dict[str, Any]:
        import openai

        return {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "organization": self.organization,
            "project": self.project,
            "timeout": openai.DEFAULT_TIMEOUT if self.timeout is None else self.timeout,
            "max_retries": self.max_retries,
            "default_headers": dict(self.default_headers) or None,
            "default_query": dict(self.default_query) or None,
            "_strict_response_validation": self.strict,
        }

    def sync(self) -> openai.OpenAI:
        """A new ``openai.OpenAI`` from this spec."""
        import openai

        if self.transports is None:
            return openai.OpenAI(**self._options())
        http = library().Client(transport=self.transports.sync)
        _BUILT[http] = self
        return openai.OpenAI(http_client=http, **self._options())

    def asynchronous(self) -> openai.AsyncOpenAI:
        """A new ``openai.AsyncOpenAI`` from this spec."""
        import openai

        if self.transports is None:
            return openai.AsyncOpenAI(**self._options())
        http = library().AsyncClient(transport=self.transports.asynchronous)
        _BUILT[http] = self
        return openai.AsyncOpenAI(http_client=http, **self._options())

    @classmethod
    def of(cls, client: openai.OpenAI | openai.AsyncOpenAI) -> ClientSpec:
        """The spec of a configured client, so that its twin can be built.

        Raises :class:`ChatnbError` saying what to pass where chatnb cannot copy the client: a
        subclass with its own auth (Azure) or an http client of the caller's own.
        """
        import openai

        kind = type(client).__name__
        if type(client) not in (openai.OpenAI, openai.AsyncOpenAI):
            base = kind.removeprefix("Async")
            raise ChatnbError(
                f"This needs the twin of your {kind}, which adds its own authentication: pass "
                f"client=openai.{base}(...) and async_client=openai.Async{base}(...) to the "
                "Chatbot."
            )
        http = openai_private.http_client(client)
        built = _BUILT.get(http)
        if built is None and not openai_private.is_default_http_client(http):
            raise ChatnbError(
                f"This {kind} sends through an http_client of your own, which chatnb cannot "
                "copy for its twin: pass both client=openai.OpenAI(http_client=...) and "
                "async_client=openai.AsyncOpenAI(http_client=...) to the Chatbot."
            )
        return replace(
            built or cls(api_key=""),
            api_key=client.api_key,
            base_url=str(client.base_url),
            organization=client.organization,
            project=client.project,
            timeout=client.timeout,
            max_retries=client.max_retries,
            default_headers=openai_private.custom_headers(client),
            default_query=openai_private.custom_query(client),
        )


class Clients:
    """A Chatbot's two clients: those given, the missing one built as the other's twin.

    Clients from settings with no key are refused only when a request is about to go out, so
    that a saved conversation can be loaded and read without one.
    """

    def __init__(
        self,
        sync: openai.OpenAI | None = None,
        asynchronous: openai.AsyncOpenAI | None = None,
        *,
        missing: ChatnbError | None = None,
        base_url: str | None = None,
        cache: Cache | None = None,
    ) -> None:
        if sync is None and asynchronous is None and missing is None:
            raise ValueError("Clients needs at least one client")
        self._sync = sync
        self._async = asynchronous
        self._missing, self._base_url = missing, base_url
        self._cached: dict[str, Any] = {}
        self.cache = cache

    @property
    def cache(self) -> Cache | None:
        """Answers recorded and replayed through both clients (see :mod:`chatnb.cache`)."""
        return self._cache

    @cache.setter
    def cache(self, cache: Cache | None) -> None:
        self._cache = cache
        #: Every exchange, logged in the cache's file (see :mod:`chatnb.runlog`).
        self.log = RunLog(cache.store) if cache is not None else None

    @classmethod
    def create(
        cls,
        sync: openai.OpenAI | None = None,
        asynchronous: openai.AsyncOpenAI | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        cache: str | Path | Cache | bool | None = None,
    ) -> Clients:
        """The clients given, or built from the settings; with the cache given (a path or a
        :class:`~chatnb.cache.Cache`), the one ``CHATNB_CACHE`` names, or none (``False``)."""
        if sync is None and asynchronous is None:
            clients = cls.from_settings(base_url, api_key)
        else:
            clients = cls(sync, asynchronous)
        if cache is None:
            clients.cache = Cache.from_env()
        elif cache is not False:
            clients.cache = cache if isinstance(cache, Cache) else Cache(Path(str(cache)))
        return clients

    @classmethod
    def from_settings(cls, base_url: str | None = None, api_key: str | None = None) -> Clients:
        """Clients for ``base_url`` / ``api_key``, or ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``
        as the openai library reads them."""
        import openai

        try:
            return cls(openai.OpenAI(base_url=base_url, api_key=api_key, timeout=default_timeout()))
        except openai.OpenAIError:
            missing = ChatnbError(
                "No API key: set the OPENAI_API_KEY environment variable or pass api_key=..., "
                "or try Chatbot.mock(), which needs none."
            )
            where = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
            return cls(missing=missing, base_url=where)

    @classmethod
    def from_spec(cls, spec: ClientSpec) -> Clients:
        return cls(spec.sync(), spec.asynchronous())

    @property
    def sync(self) -> openai.OpenAI:
        if self._missing is not None:
            raise self._missing
        if self._sync is None:
            assert self._async is not None
            self._sync = ClientSpec.of(self._async).sync()
        return self._through_cache("sync", self._sync)

    @property
    def asynchronous(self) -> openai.AsyncOpenAI:
        return self._through_cache("async", self.asynchronous_uncached)

    @property
    def asynchronous_uncached(self) -> openai.AsyncOpenAI:
        """The async client without the cache (for the Files and Batch APIs, and for wrapping
        in another transport before the cache wraps it)."""
        if self._missing is not None:
            raise self._missing
        if self._async is None:
            assert self._sync is not None
            self._async = ClientSpec.of(self._sync).asynchronous()
        return self._async

    @property
    def unwrapped(self) -> tuple[openai.OpenAI | None, openai.AsyncOpenAI | None]:
        """The clients before the cache: what a copy of the Chatbot is built on (with the same
        :attr:`cache`, so that the copies share its samples and its log)."""
        return self._sync, self._async

    def _through_cache(self, name: str, client: _Client) -> _Client:
        if self.cache is None:
            return client
        if name not in self._cached:
            self._cached[name] = self.cache.wrap(client)
        wrapped: _Client = self._cached[name]
        return wrapped

    @property
    def _any(self) -> openai.OpenAI | openai.AsyncOpenAI | None:
        return self._sync or self._async

    @property
    def api_key(self) -> str | None:
        client = self._any
        return None if client is None else client.api_key

    @property
    def secrets(self) -> Secrets:
        """What must never be shown of these clients (key, credential headers, URL)."""
        client = self._any
        if client is None:
            return Secrets()
        return Secrets.of_client(
            client.api_key,
            str(client.base_url),
            openai_private.custom_headers(client),
            openai_private.custom_query(client),
        )

    @property
    def base_url(self) -> str:
        client = self._any
        return str(client.base_url) if client is not None else str(self._base_url)

    @property
    def max_retries(self) -> int:
        client = self._any
        return 0 if client is None else client.max_retries

    def __repr__(self) -> str:
        return f"Clients(base_url={self.base_url!r})"
