"""Automatic persisted queries (Apollo's APQ): a client sends a document's SHA-256 in place
of the document, once the gateway has seen the document itself.

A request names its document with ``extensions.persistedQuery`` (``{"version": 1,
"sha256Hash": "<64 hex digits>"}``). With the hash alone the gateway looks the document up:
first among the caller's own registered documents (an access control's trusted documents,
:meth:`~gateway.access.Admission.persisted_document`), then among those it remembers; when
it has neither it answers ``PERSISTED_QUERY_NOT_FOUND`` and the client sends the hash again
with the document, which is checked against the hash, run, and remembered.

Remembered documents are kept per view (:attr:`~gateway.access.AccessView.key`): a document
can hold a person's identifier, and a cache shared by all callers would tell one partner
whether another had asked about someone. They are kept in this process (an LRU bounded by
entries and bytes) or, with a Redis URL, in Redis too, so that every gateway knows them.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gateway.errors import GatewayError

logger = logging.getLogger("tonle.gateway")

EXTENSION = "persistedQuery"
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class PersistedQueryError(GatewayError):
    """A persisted-query request that cannot run: answered with ``code`` and ``status``."""

    def __init__(
        self, message: str, code: str, status: int, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.headers = dict(headers or {})

    def as_error(self) -> dict[str, Any]:
        return {"message": self.message, "extensions": {"code": self.code}}


def not_found() -> PersistedQueryError:
    # Apollo's exact message and code, which its clients (and Relay's, urql's) look for; 200
    # and no caching, as Apollo Server answers, so a CDN never keeps the miss.
    return PersistedQueryError(
        "PersistedQueryNotFound",
        "PERSISTED_QUERY_NOT_FOUND",
        200,
        headers={"Cache-Control": "private, no-cache, must-revalidate"},
    )


def persisted_hash(extensions: Mapping[str, Any]) -> str | None:
    """The SHA-256 a request names in ``extensions.persistedQuery`` (lower-case), or None.

    Raises :class:`PersistedQueryError` for a malformed one.
    """
    given = extensions.get(EXTENSION)
    if given is None:
        return None
    if not isinstance(given, dict):
        raise _bad("'extensions.persistedQuery' must be a JSON object.")
    if given.get("version") != 1:
        raise _bad("Unsupported persisted query version: send 'version': 1.")
    sha256 = given.get("sha256Hash")
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise _bad(
            "'extensions.persistedQuery.sha256Hash' must be the SHA-256 of the document, "
            "64 hexadecimal digits."
        )
    return sha256.lower()


def _bad(message: str) -> PersistedQueryError:
    return PersistedQueryError(message, "BAD_REQUEST", 400)


def document_hash(query: str) -> str:
    """The SHA-256 of a document as sent (UTF-8), in lower-case hexadecimal."""
    return hashlib.sha256(query.encode()).hexdigest()


class PersistedQueries(Protocol):
    """Where remembered documents are kept."""

    async def get(self, scope: str, sha256: str) -> str | None: ...

    async def put(self, scope: str, sha256: str, query: str) -> None: ...

    async def close(self) -> None: ...


class MemoryPersistedQueries:
    """Documents remembered in this process: the most recently used, bounded by entries
    and by the characters they hold."""

    def __init__(self, max_entries: int = 10_000, max_chars: int = 32 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self._entries: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._chars = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, scope: str, sha256: str) -> str | None:
        return self.get_now(scope, sha256)

    def get_now(self, scope: str, sha256: str) -> str | None:
        key = (scope, sha256)
        query = self._entries.get(key)
        if query is not None:
            self._entries.move_to_end(key)
        return query

    async def put(self, scope: str, sha256: str, query: str) -> None:
        self.put_now(scope, sha256, query)

    def put_now(self, scope: str, sha256: str, query: str) -> None:
        key = (scope, sha256)
        old = self._entries.pop(key, None)
        if old is not None:
            self._chars -= len(old)
        if len(query) > self.max_chars:
            return
        self._entries[key] = query
        self._chars += len(query)
        while len(self._entries) > self.max_entries or self._chars > self.max_chars:
            _, evicted = self._entries.popitem(last=False)
            self._chars -= len(evicted)

    async def close(self) -> None:
        return None


class RedisPersistedQueries:
    """Documents remembered in Redis, for every gateway, with this process's LRU in front.

    Keys are ``<prefix>:apq:<16 hex digits of the scope's SHA-256>:<document SHA-256>`` and
    expire ``ttl_s`` after their last use. A document read back is hashed again, so a key
    written by anyone else than a gateway cannot swap one document for another. While Redis
    cannot be reached the process's own LRU serves alone (a miss then costs the client one
    more round trip) and the gateway says so in its log, once a minute.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "tonle",
        ttl_s: int = 7 * 24 * 3600,
        local: MemoryPersistedQueries | None = None,
        timeout_s: float = 0.5,
    ) -> None:
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 1),
        )
        self.prefix = prefix
        self.ttl_s = ttl_s
        self.local = local or MemoryPersistedQueries(max_entries=2_000)
        self._last_alarm = 0.0

    def key(self, scope: str, sha256: str) -> str:
        return f"{self.prefix}:apq:{hashlib.sha256(scope.encode()).hexdigest()[:16]}:{sha256}"

    async def get(self, scope: str, sha256: str) -> str | None:
        query = self.local.get_now(scope, sha256)
        if query is not None:
            return query
        try:
            raw = await self.client.getex(self.key(scope, sha256), ex=self.ttl_s)
        except (RedisError, OSError) as error:
            self._alarm(error)
            return None
        if raw is None:
            return None
        try:
            query = raw.decode() if isinstance(raw, bytes) else str(raw)
        except UnicodeDecodeError:
            return None
        if document_hash(query) != sha256:
            logger.error("a persisted query in Redis does not match its hash; ignored")
            return None
        self.local.put_now(scope, sha256, query)
        return query

    async def put(self, scope: str, sha256: str, query: str) -> None:
        self.local.put_now(scope, sha256, query)
        try:
            await self.client.set(self.key(scope, sha256), query.encode(), ex=self.ttl_s)
        except (RedisError, OSError) as error:
            self._alarm(error)

    def _alarm(self, error: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_alarm < 60:
            return
        self._last_alarm = now
        kwargs = self.client.connection_pool.connection_kwargs
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        logger.error(
            "PERSISTED QUERIES NOT SHARED: Redis at %s cannot be reached (%s); this gateway "
            "remembers documents only in its own memory until it answers again",
            where,
            error.__class__.__name__,
        )

    async def close(self) -> None:
        await self.client.aclose()
