"""Remembering the nonces of accepted signatures, so that a signed request is answered once.

A signature passes for :data:`~policies.signing.MAX_SKEW_SECONDS` either side of its
timestamp; its nonce must be remembered that long and can then be forgotten, since the
signature itself has gone stale.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

DEFAULT_CAPACITY = 500_000


class NonceStoreFull(Exception):
    """More live nonces than the store may hold: the request cannot be checked for replay."""


class NonceStore(Protocol):
    """Where a subgraph remembers the nonces it has accepted until they expire.

    A shared store (Redis: ``SET <prefix>:<nonce> 1 NX EXAT <expires_at>``) would refuse a
    replay sent to another replica of the subgraph too; :class:`MemoryNonceStore` refuses
    replays to its own process.
    """

    async def first_use(self, nonce: str, expires_at: int) -> bool:
        """Record ``nonce`` until ``expires_at`` (unix seconds); False if it was already there.

        Raises :class:`NonceStoreFull` rather than forget a live nonce.
        """
        ...


class MemoryNonceStore:
    """A process's nonces, in memory, at most ``capacity`` of them at a time.

    Nonces are kept in one set per expiry second: a replay carries the same signed
    timestamp, so it is looked for in one set only, and expired sets go whole.
    """

    def __init__(
        self, capacity: int = DEFAULT_CAPACITY, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.capacity = capacity
        self.clock = clock
        self._by_expiry: dict[int, set[str]] = {}
        self._size = 0
        self._next_sweep = 0.0

    def __len__(self) -> int:
        return self._size

    async def first_use(self, nonce: str, expires_at: int) -> bool:
        now = self.clock()
        if now >= self._next_sweep:
            self._sweep(now)
        seen = self._by_expiry.get(expires_at)
        if seen is not None and nonce in seen:
            return False
        if self._size >= self.capacity:
            raise NonceStoreFull(
                f"this subgraph has accepted more than {self.capacity} signed requests within "
                "the signatures' lifetime; run more replicas of it or give it a larger store"
            )
        if seen is None:
            seen = self._by_expiry[expires_at] = set()
        seen.add(nonce)
        self._size += 1
        return True

    def _sweep(self, now: float) -> None:
        for expiry in [e for e in self._by_expiry if e < now]:
            self._size -= len(self._by_expiry.pop(expiry))
        self._next_sweep = now + 1.0
