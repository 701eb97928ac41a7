"""Rate budgets across gateway processes: shared through Redis, per partner and per end user;
what happens while Redis is away; a demo partner's burst meets 429."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest

from tests.gateway.classic import SUBGRAPHS, supergraph_sdl
from tests.policy_gateways import ask, gateway_app, policy, policy_database
from tests.policy_stack import policy_stack
from tests.servers import free_port, serve
from tests.shared_redis import SharedRedis

ROOT = Path(__file__).parents[1]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_two_gateways_on_one_redis_share_the_partner_s_budget(
    tmp_path: Path, shared_redis: SharedRedis, session: aiohttp.ClientSession
) -> None:
    database = await policy_database(tmp_path, policy(budget=6))
    key = database.keys["cash"]
    async with (
        serve(gateway_app(database, redis=shared_redis)) as one,
        serve(gateway_app(database, redis=shared_redis)) as two,
    ):
        answers = [await ask(session, (one, two)[i % 2], key) for i in range(12)]
        other = await ask(session, one, database.keys["other"])
    statuses = [a.status for a in answers]
    # Six a minute between them (one more may refill, at one every ten seconds), not six each.
    assert statuses[:6] == [200] * 6 and statuses.count(429) >= 5, statuses
    refused = next(a for a in answers if a.status == 429)
    assert refused.codes == ["RATE_LIMITED"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 10
    assert refused.body["errors"][0]["extensions"]["limit"] == "requests_per_minute"
    assert other.status == 200  # another partner, another budget
    assert any(
        k.startswith(f"{shared_redis.prefix}:rate:{{cash}}") for k in await shared_redis.keys()
    )


async def test_an_end_user_has_a_budget_of_its_own_within_the_partner_s(
    tmp_path: Path, shared_redis: SharedRedis, session: aiohttp.ClientSession
) -> None:
    database = await policy_database(tmp_path, policy(budget=8, end_user=3))
    key = database.keys["cash"]
    officer = {"X-Tonle-End-User": "officer-7"}
    async with (
        serve(gateway_app(database, redis=shared_redis)) as one,
        serve(gateway_app(database, redis=shared_redis)) as two,
    ):
        mine = [await ask(session, (one, two)[i % 2], key, headers=officer) for i in range(5)]
        colleague = [
            await ask(session, two, key, headers={"X-Tonle-End-User": "officer-8"})
            for _ in range(3)
        ]
        unnamed = [await ask(session, one, key) for _ in range(3)]
        keys = await shared_redis.keys()
    assert [a.status for a in mine] == [200, 200, 200, 429, 429]
    error = mine[3].body["errors"][0]
    assert error["extensions"] == {
        "code": "RATE_LIMITED", "limit": "requests_per_minute_per_end_user", "cap": 3
    }  # fmt: skip
    assert "end user" in error["message"]
    assert int(mine[3].headers["Retry-After"]) >= 1
    assert [a.status for a in colleague] == [200, 200, 200]
    # The two refusals took nothing from the partner: 3 + 3 of its 8 are spent, 2 are left.
    assert [a.status for a in unnamed] == [200, 200, 429]
    assert unnamed[2].body["errors"][0]["extensions"]["limit"] == "requests_per_minute"
    # One bucket per end user, named by a digest: Redis never holds the partner's user names.
    officers = [k for k in keys if ":end-user:" in k]
    assert len(officers) == 2 and not any("officer" in k for k in keys), keys


async def test_without_redis_each_gateway_keeps_its_own_budget_and_says_so(
    tmp_path: Path, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    database = await policy_database(tmp_path, policy(budget=3))
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    with caplog.at_level(logging.ERROR, logger="tonle.policies"):
        async with (
            serve(gateway_app(database, redis_url=nowhere)) as one,
            serve(gateway_app(database, redis_url=nowhere)) as two,
        ):
            started = time.monotonic()
            first = [await ask(session, one, database.keys["cash"]) for _ in range(4)]
            second = [await ask(session, two, database.keys["cash"]) for _ in range(4)]
            elapsed = time.monotonic() - started
    # Fail open: served, within each process's own budget; refused beyond it.
    assert [a.status for a in first] == [200, 200, 200, 429]
    assert [a.status for a in second] == [200, 200, 200, 429]
    assert elapsed < 5
    alarms = [r for r in caplog.records if "RATE LIMITS NOT SHARED" in r.getMessage()]
    assert len(alarms) == 2 and all(r.levelno == logging.ERROR for r in alarms)


async def test_a_burst_from_a_demo_key_meets_429(tmp_path: Path, shared_redis: SharedRedis) -> None:
    registry = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with policy_stack(
        registry, tmp_path, people=20, redis=(shared_redis.url, shared_redis.prefix)
    ) as stack:
        budget = 120  # ngo-cash's requests_per_minute in tonle/demo-policy.yaml
        started = time.monotonic()
        statuses: list[int] = []
        sent = 0

        async def partner() -> None:
            nonlocal sent
            while sent < 300:
                sent += 1
                statuses.append((await stack.ask("ngo-cash", "{ __typename }")).status)

        await asyncio.gather(*(partner() for _ in range(10)))
        elapsed = time.monotonic() - started
    assert set(statuses) == {200, 429}
    refill = int(elapsed * budget / 60) + 1
    assert budget <= statuses.count(200) <= budget + refill, (statuses.count(200), elapsed)


async def test_two_gateway_processes_share_one_budget(
    tmp_path: Path, shared_redis: SharedRedis, session: aiohttp.ClientSession
) -> None:
    database = await policy_database(tmp_path, policy(budget=10))
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(supergraph_sdl({n: f"http://127.0.0.1:9/{n}" for n in SUBGRAPHS}))
    env = {
        **os.environ,
        "TONLE_REDIS_URL": shared_redis.url,
        "TONLE_REDIS_PREFIX": shared_redis.prefix,
    }
    ports = [free_port(), free_port()]
    async with AsyncExitStack() as exits:
        for port in ports:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tonle.cli", "gateway", "--supergraph", str(supergraph),
                "--port", str(port), "--database", database.url,
                cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            exits.push_async_callback(_stop, process)
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            await _healthy(session, url)
        started = time.monotonic()
        answers = [await ask(session, urls[i % 2], database.keys["cash"]) for i in range(20)]
        elapsed = time.monotonic() - started
    ok = [a.status for a in answers].count(200)
    assert [a.status for a in answers][:10] == [200] * 10
    assert ok <= 10 + int(elapsed / 6) + 1, (ok, elapsed)  # ten a minute: not ten each


async def _healthy(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(300):
        try:
            async with session.get(url + "/health") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"the gateway at {url} did not become healthy")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
