"""Token buckets in Redis: one budget per partner (and per end user) across every gateway.

Each request runs one Lua script, atomically: it reads Redis's own clock (``TIME``, so the
gateways' clocks do not matter), refills each bucket it was given to its budget at an even
rate, and takes the cost from all of them or, when any is short, from none. A bucket that
would be full is deleted and the others expire when they would be full, so Redis holds only
the buckets of callers seen within the last minute.

When Redis cannot be reached the limiter falls back to this process's own buckets and says
so loudly; it tries Redis again a few seconds later (docs/policies.md explains the choice).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from policies.ratelimit import Budget, RateLimiter, Wait, closed_budget

logger = logging.getLogger("tonle.policies")

# KEYS: one bucket per budget. ARGV[1]: the cost; ARGV[1 + i]: budget i, tokens a minute.
# Returns {0, "0"} when allowed, else {i, seconds to wait} for the budget that waits longest.
TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local cost = tonumber(ARGV[1])
local tokens = {}
local wait, which = 0, 0
for i = 1, #KEYS do
  local budget = tonumber(ARGV[i + 1])
  local rate = budget / 60
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'at')
  local have, at = tonumber(state[1]), tonumber(state[2])
  if have == nil or at == nil then
    have = budget
  elseif now > at then
    have = math.min(budget, have + (now - at) * rate)
  end
  tokens[i] = have
  if have < cost then
    local seconds = (cost - have) / rate
    if seconds > wait then wait, which = seconds, i end
  end
end
for i = 1, #KEYS do
  local budget = tonumber(ARGV[i + 1])
  local have = tokens[i]
  if which == 0 then have = have - cost end
  if have >= budget then
    redis.call('DEL', KEYS[i])
  else
    redis.call('HSET', KEYS[i], 'tokens', have, 'at', now)
    redis.call('PEXPIRE', KEYS[i], math.ceil((budget - have) / (budget / 60) * 1000))
  end
end
return {which, tostring(wait)}
"""


def redis_client(url: str, *, timeout_s: float = 0.5) -> redis.Redis:
    """A client that gives up quickly: a request must not wait on a Redis that is away."""
    client: redis.Redis = redis.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 1),  # once more, for a pooled connection Redis closed
    )
    return client


def where(client: redis.Redis) -> str:
    """Host and port (or socket path) of the client's Redis, never its password."""
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return str(kwargs["path"])
    return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"


class RedisRateLimiter:
    """Rate budgets shared by every gateway process through one Redis."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "tonle",
        fallback: RateLimiter | None = None,
        retry_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.fallback = fallback or RateLimiter()
        self.retry_s = retry_s
        self.clock = clock
        self._script = client.register_script(TAKE)
        self._down_until = 0.0
        self._down_since: float | None = None
        self._last_alarm = 0.0

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisRateLimiter:
        return cls(redis_client(url), **kwargs)

    @property
    def shared(self) -> bool:
        """Whether the budgets are the shared ones right now (False while Redis is away)."""
        return self._down_since is None

    def key(self, key: tuple[str, ...]) -> str:
        """The Redis key of a bucket: the partner in braces, so that one partner's buckets
        share a Redis Cluster slot and one script can take from them all."""
        first, *rest = (quote(part, safe="") for part in key)
        return f"{self.prefix}:rate:{{{first}}}" + "".join(f":{part}" for part in rest)

    async def take(self, key: tuple[str, ...], per_minute: int, cost: int = 1) -> float | None:
        wait = await self.take_all([(key, per_minute)], cost)
        return None if wait is None else wait.seconds

    async def take_all(self, budgets: Sequence[Budget], cost: int = 1) -> Wait | None:
        closed = closed_budget(budgets)
        if closed is not None:
            return closed
        if self._down_until > self.clock():
            return self.fallback.take_now(budgets, cost)
        try:
            which, seconds = await self._script(
                keys=[self.key(key) for key, _ in budgets],
                args=[cost, *(per_minute for _, per_minute in budgets)],
            )
        except (RedisError, OSError) as error:
            self._went_down(error)
            return self.fallback.take_now(budgets, cost)
        if self._down_since is not None:
            self._came_back()
        index = int(which)
        return None if index == 0 else Wait(float(seconds), index - 1)

    def _went_down(self, error: BaseException) -> None:
        now = self.clock()
        self._down_until = now + self.retry_s
        if self._down_since is None:
            self._down_since = now
        elif now - self._last_alarm < 60:
            return
        self._last_alarm = now
        logger.error(
            "RATE LIMITS NOT SHARED: Redis at %s cannot be reached (%s); each gateway process "
            "now keeps its own buckets, so a partner spread over N gateways may get up to N "
            "times its budget. Retrying Redis every %g s.",
            where(self.client),
            error.__class__.__name__,
            self.retry_s,
        )

    def _came_back(self) -> None:
        assert self._down_since is not None
        logger.warning(
            "Redis at %s answers again after %.0f s; rate limits are shared again",
            where(self.client),
            self.clock() - self._down_since,
        )
        self._down_since = None

    async def close(self) -> None:
        await self.client.aclose()
