"""The Redis of the tests (``TONLE_TEST_REDIS_URL``), with a key prefix of each test's own.

``.ci/run`` starts Redis and sets the URL (database 15); elsewhere the tests that need it
skip, saying so, unless ``TONLE_REQUIRE_POSTGRES=1`` asks for every service to be there.
Each test gets a fresh prefix, so tests never see each other's keys, and its keys are
deleted when it ends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import redis.asyncio as redis
from redis.exceptions import RedisError

REDIS_ENV = "TONLE_TEST_REDIS_URL"
REQUIRE_ENV = "TONLE_REQUIRE_POSTGRES"


@dataclass(frozen=True)
class SharedRedis:
    """Where the test's Redis is, and the prefix its keys must carry."""

    url: str
    prefix: str

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    async def keys(self) -> list[str]:
        client = self.client()
        try:
            return sorted([k.decode() async for k in client.scan_iter(f"{self.prefix}:*")])
        finally:
            await client.aclose()


@pytest.fixture
async def shared_redis() -> AsyncIterator[SharedRedis]:
    url = os.environ.get(REDIS_ENV)
    if not url:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {REDIS_ENV} is not set: the Redis tests must run")
        pytest.skip(
            f"{REDIS_ENV} is not set: start Redis and set it (e.g. redis://127.0.0.1:6379/15, "
            "as .ci/run does) to test budgets and persisted queries shared through Redis"
        )
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        pytest.fail(f"Redis at {url} cannot be reached ({error}); start it or unset {REDIS_ENV}")
    target = SharedRedis(url, f"tonle-test-{uuid.uuid4().hex[:12]}")
    try:
        yield target
    finally:
        keys = [k async for k in client.scan_iter(f"{target.prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
