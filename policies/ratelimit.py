"""Token buckets: a budget per minute per key, refilled steadily, taken all or nothing.

:class:`RateLimiter` keeps the buckets in this process: a partner spread over N gateway
processes gets up to N times its budget. :class:`~policies.redis_ratelimit.RedisRateLimiter`
keeps them in Redis, so that every gateway draws on one budget; it falls back to a
:class:`RateLimiter` while Redis cannot be reached (docs/policies.md says why).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

# A bucket's key (the partner first) and its budget: tokens a minute, also the most it holds.
Budget = tuple[tuple[str, ...], int]


@dataclass(frozen=True)
class Wait:
    """A refusal: how long until the request would be allowed, and which budget ran out."""

    seconds: float
    budget: int  # the index of that budget in the ones asked for


class Limiter(Protocol):
    """Rate budgets, wherever their buckets are kept."""

    async def take(self, key: tuple[str, ...], per_minute: int, cost: int = 1) -> float | None:
        """Take ``cost`` tokens: None when allowed, else seconds until it would be."""
        ...

    async def take_all(self, budgets: Sequence[Budget], cost: int = 1) -> Wait | None:
        """Take ``cost`` from every budget, or from none when any of them is short."""
        ...

    async def close(self) -> None: ...


def closed_budget(budgets: Sequence[Budget]) -> Wait | None:
    """A budget of 0 a minute never allows anything: refused without looking at buckets."""
    for index, (_, per_minute) in enumerate(budgets):
        if per_minute <= 0:
            return Wait(60.0, index)
    return None


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets in this process's memory."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[tuple[str, ...], _Bucket] = {}

    async def take(self, key: tuple[str, ...], per_minute: int, cost: int = 1) -> float | None:
        wait = self.take_now([(key, per_minute)], cost)
        return None if wait is None else wait.seconds

    async def take_all(self, budgets: Sequence[Budget], cost: int = 1) -> Wait | None:
        return self.take_now(budgets, cost)

    def take_now(self, budgets: Sequence[Budget], cost: int = 1) -> Wait | None:
        """:meth:`take_all`, synchronously."""
        closed = closed_budget(budgets)
        if closed is not None:
            return closed
        now = self.clock()
        buckets = []
        refusal: Wait | None = None
        for index, (key, per_minute) in enumerate(budgets):
            rate = per_minute / 60.0
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    self._buckets.clear()  # bounded memory; a reset only ever grants more
                bucket = self._buckets[key] = _Bucket(float(per_minute), now)
            else:
                bucket.tokens = min(
                    float(per_minute), bucket.tokens + max(0.0, now - bucket.updated) * rate
                )
                bucket.updated = now
            buckets.append(bucket)
            if bucket.tokens < cost:
                seconds = (cost - bucket.tokens) / rate
                if refusal is None or seconds > refusal.seconds:
                    refusal = Wait(seconds, index)
        if refusal is not None:
            return refusal
        for bucket in buckets:
            bucket.tokens -= cost
        return None

    async def close(self) -> None:
        return None
