"""A heavy request the gateway gave up on stops holding the registry's connections.

The issue this guards against: 200 aliases of ``people(first: 10000)`` kept the identity
subgraph's connection pool busy long after the gateway had stopped waiting, and every
partner's request waited 10 to 30 s behind them.
"""

from __future__ import annotations

import time

import aiohttp
import pytest

from identity_store import add_people, create_engine, migrate, session_factory
from sandbox.population import generate_population
from subgraphs.identity import create_app
from tests.servers import serve

VILLAGES = ("01020101", "01020102", "01020201", "01020202")  # all in district 0102
PEOPLE = 12_000
# 40 pages of 10,000 people: about 20 s of work for the subgraph.
HEAVY = (
    "{ "
    + " ".join(
        f'p{i}: people(districtCode: "0102", first: 10000) {{ edges {{ node {{ spid familyName }} }} }}'
        for i in range(40)
    )
    + " }"
)
SMALL = '{ people(villageCode: "01020101", first: 1) { edges { node { spid } } } }'


async def seed(url: str) -> None:
    await migrate(url)
    engine = create_engine(url)
    try:
        population = generate_population(PEOPLE, seed=7)
        people = (p.new_person(VILLAGES[i % 4]) for i, p in enumerate(population.people))
        await add_people(session_factory(engine), people)
    finally:
        await engine.dispose()


async def test_the_registry_is_free_again_within_a_second_of_the_client_giving_up(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One connection: while the heavy request holds it, no other request can answer.
    monkeypatch.setenv("TONLE_DB_POOL_SIZE", "1")
    monkeypatch.delenv("TONLE_GATEWAY_SECRET", raising=False)
    await seed(database_url)
    async with serve(create_app(database_url)) as url, aiohttp.ClientSession() as session:
        with pytest.raises(TimeoutError):
            async with session.post(
                url + "/graphql",
                json={"query": HEAVY},
                timeout=aiohttp.ClientTimeout(total=0.5),
            ) as response:
                await response.read()
        gave_up = time.monotonic()
        async with session.post(url + "/graphql", json={"query": SMALL}) as response:
            body = await response.json()
        answered_s = time.monotonic() - gave_up
        assert "errors" not in body, body
        assert len(body["data"]["people"]["edges"]) == 1
        assert answered_s < 1.0, f"the next request waited {answered_s:.2f} s"
        print(f"the next request answered {answered_s:.3f} s after the client gave up")
        async with session.get(url + "/metrics") as response:
            assert "tonle_cancelled_requests_total 1.0" in await response.text()
