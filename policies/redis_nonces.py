"""Nonces remembered in Redis: a signed request (or a delegation's use) is accepted once by
every replica sharing the Redis, not once per process.

``SET <prefix>:nonce:<nonce> 1 NX EXAT <expires_at>``: set only when absent, gone when the
signature has gone stale anyway. When Redis cannot be reached the store falls back to the
process's own memory (a replay to the same process is still refused) and says so, as the
rate limits do; it tries Redis again a few seconds later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis.asyncio as redis
from redis.exceptions import RedisError

from policies.nonces import MemoryNonceStore, NonceStore

logger = logging.getLogger("tonle.policies")
RETRY_AFTER_S = 5.0


class RedisNonceStore:
    """A :class:`~policies.nonces.NonceStore` shared through Redis, with a memory fallback."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str,
        fallback: NonceStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.fallback = fallback if fallback is not None else MemoryNonceStore()
        self.clock = clock
        self._down_until = 0.0

    @classmethod
    def from_url(cls, url: str, *, prefix: str) -> RedisNonceStore:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        return cls(client, prefix=prefix)

    async def first_use(self, nonce: str, expires_at: int) -> bool:
        if self.clock() >= self._down_until:
            try:
                done = await self.client.set(
                    f"{self.prefix}:nonce:{nonce}", 1, nx=True, exat=expires_at
                )
            except (RedisError, OSError) as error:
                self._down_until = self.clock() + RETRY_AFTER_S
                logger.warning(
                    "Redis unreachable for replay protection (%s): refusing replays to this "
                    "process only, for %.0f s",
                    type(error).__name__,
                    RETRY_AFTER_S,
                )
            else:
                # Remembered here too: a replay while Redis is away later is still caught here.
                await self.fallback.first_use(nonce, expires_at)
                return bool(done)
        return await self.fallback.first_use(nonce, expires_at)

    async def aclose(self) -> None:
        await self.client.aclose()
