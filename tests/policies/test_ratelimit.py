"""Token buckets, in this process and in Redis: one budget shared by every limiter on one
Redis, all or nothing across a partner's and its end user's budgets, Redis's own clock,
keys that expire, and this process's own buckets while Redis is away."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from redis.exceptions import RedisError

from policies.ratelimit import RateLimiter, Wait
from policies.redis_ratelimit import RedisRateLimiter
from tests.servers import free_port
from tests.shared_redis import SharedRedis

PARTNER = (("ngo-cash", "requests"), 5)
END_USER = (("ngo-cash", "end-user", "officer 7/ក"), 2)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- in this process ----------------------------------------------------------------------


async def test_a_budget_allows_its_tokens_then_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert [await limiter.take(("p", "requests"), 6) for _ in range(6)] == [None] * 6
    assert await limiter.take(("p", "requests"), 6) == pytest.approx(10.0)  # 6 a minute
    clock.now += 10
    assert await limiter.take(("p", "requests"), 6) is None
    assert await limiter.take(("q", "requests"), 6) is None  # another key, another bucket


async def test_in_process_buckets_are_taken_all_or_nothing() -> None:
    limiter = RateLimiter(Clock())
    for _ in range(2):
        assert await limiter.take_all([PARTNER, END_USER]) is None
    refused = await limiter.take_all([PARTNER, END_USER])
    assert refused == Wait(pytest.approx(30.0), 1)  # the end user's budget ran out
    # The refusal took nothing from the partner: three of its five are left.
    other = (("ngo-cash", "end-user", "officer 8"), 10)
    results = [await limiter.take_all([PARTNER, other]) for _ in range(4)]
    assert results == [None, None, None, Wait(pytest.approx(12.0), 0)]


async def test_a_budget_of_zero_allows_nothing() -> None:
    assert await RateLimiter().take(("p", "requests"), 0) == 60.0


# -- in Redis -----------------------------------------------------------------------------


@pytest.fixture
async def limiters(shared_redis: SharedRedis) -> AsyncIterator[list[RedisRateLimiter]]:
    made = [
        RedisRateLimiter.from_url(shared_redis.url, prefix=shared_redis.prefix) for _ in range(2)
    ]
    yield made
    for limiter in made:
        await limiter.close()


async def test_two_limiters_on_one_redis_share_one_budget(
    limiters: list[RedisRateLimiter],
) -> None:
    results = [await limiters[i % 2].take(*PARTNER) for i in range(8)]
    assert results[:5] == [None] * 5
    assert all(wait is not None and 0 < wait <= 12.0 for wait in results[5:]), results
    assert all(limiter.shared for limiter in limiters)


async def test_redis_buckets_are_taken_all_or_nothing(limiters: list[RedisRateLimiter]) -> None:
    first, second = limiters
    assert await first.take_all([PARTNER, END_USER]) is None
    assert await second.take_all([PARTNER, END_USER]) is None
    refused = await first.take_all([PARTNER, END_USER])
    assert refused is not None and refused.budget == 1 and 0 < refused.seconds <= 30
    other = (("ngo-cash", "end-user", "officer 8"), 10)
    results = [await second.take_all([PARTNER, other]) for _ in range(4)]
    assert results[:3] == [None, None, None]  # the refusal above took nothing from the partner
    assert results[3] is not None and results[3].budget == 0


async def test_buckets_live_in_redis_by_its_clock_and_expire_when_full(
    limiters: list[RedisRateLimiter], shared_redis: SharedRedis
) -> None:
    limiter = limiters[0]
    assert await limiter.take(("ngo-cash", "requests"), 60) is None
    key = limiter.key(("ngo-cash", "requests"))
    assert key == f"{shared_redis.prefix}:rate:{{ngo-cash}}:requests"
    client = shared_redis.client()
    try:
        seconds, micros = await client.time()
        state = await client.hgetall(key)
        # Redis's clock (Unix time), not this process's monotonic one.
        assert abs(float(state[b"at"]) - (seconds + micros / 1e6)) < 2
        assert float(state[b"tokens"]) == pytest.approx(59.0)
        assert 0 < await client.pttl(key) <= 1000  # one token back at 1 a second: then full
        await asyncio.sleep(1.2)
        assert await client.exists(key) == 0
    finally:
        await client.aclose()
    assert await shared_redis.keys() == []


async def test_a_partner_s_buckets_share_a_cluster_slot_whatever_the_end_user(
    limiters: list[RedisRateLimiter], shared_redis: SharedRedis
) -> None:
    key = limiters[0].key(END_USER[0])
    assert key == f"{shared_redis.prefix}:rate:{{ngo-cash}}:end-user:officer%207%2F%E1%9E%80"


# -- Redis away ---------------------------------------------------------------------------


async def test_without_redis_each_process_keeps_its_own_budget_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = RedisRateLimiter.from_url(f"redis://127.0.0.1:{free_port()}/0", retry_s=60)
    try:
        with caplog.at_level(logging.ERROR, logger="tonle.policies"):
            started = time.monotonic()
            results = [await limiter.take(*PARTNER) for _ in range(7)]
            elapsed = time.monotonic() - started
    finally:
        await limiter.close()
    assert results[:5] == [None] * 5
    assert results[5] is not None and results[6] is not None  # still limited, in this process
    assert not limiter.shared
    assert elapsed < 2  # one failed connection, then no more tries until retry_s
    (alarm,) = [r for r in caplog.records if "RATE LIMITS NOT SHARED" in r.getMessage()]
    assert alarm.levelno == logging.ERROR and "ConnectionError" in alarm.getMessage()


async def _until_answers(port: int) -> None:
    client = redis.Redis(port=port)
    try:
        for _ in range(100):
            try:
                await client.ping()
                return
            except (OSError, RedisError):
                await asyncio.sleep(0.05)
    finally:
        await client.aclose()
    raise AssertionError("the test's Redis did not start")


async def _start_redis(port: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def test_budgets_are_shared_again_once_redis_is_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    port = free_port()
    server = await _start_redis(port)
    limiter = RedisRateLimiter.from_url(f"redis://127.0.0.1:{port}/0", retry_s=0.2)
    try:
        await _until_answers(port)
        assert await limiter.take(*PARTNER) is None and limiter.shared
        server.terminate()
        await server.wait()
        with caplog.at_level(logging.WARNING, logger="tonle.policies"):
            assert await limiter.take(*PARTNER) is None  # this process's own bucket
            assert not limiter.shared
            server = await _start_redis(port)
            await _until_answers(port)
            await asyncio.sleep(0.3)
            # A fresh Redis: a full bucket of five, shared again.
            results = [await limiter.take(*PARTNER) for _ in range(6)]
            assert results[:5] == [None] * 5 and results[5] is not None
            assert limiter.shared
        messages = [r.getMessage() for r in caplog.records]
        assert any("RATE LIMITS NOT SHARED" in m for m in messages), messages
        assert any("answers again" in m for m in messages), messages
    finally:
        await limiter.close()
        if server.returncode is None:
            server.terminate()
            await server.wait()
