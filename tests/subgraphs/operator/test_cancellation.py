"""A request the gateway gave up on stops its calls to the operator's system."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from sandbox import nssf as nssf_sandbox
from sandbox.faults import Faults
from sandbox.population import generate_population
from subgraphs import nssf
from tests.servers import serve

POPULATION = generate_population(300, seed=17)
QUERY = (
    "query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { nssf { status } } } }"
)


async def test_the_operator_calls_of_a_cancelled_request_are_cancelled_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TONLE_GATEWAY_SECRET", raising=False)
    faults = Faults(hang=True)
    sandbox = nssf_sandbox.create_app(
        tmp_path / "nssf.db", seed_population=POPULATION, faults=faults
    )
    # 250 people: three batch calls of at most 100, in flight at once; the subgraph would
    # wait 30 s for them if nothing stopped it.
    reps = [{"__typename": "Person", "spid": p.spid} for p in POPULATION.people[:250]]
    async with (
        serve(sandbox) as operator,
        serve(nssf.create_app(operator, timeout_s=30, retries=0)) as url,
        aiohttp.ClientSession() as session,
    ):
        with pytest.raises(TimeoutError):
            async with session.post(
                url + "/graphql",
                json={"query": QUERY, "variables": {"r": reps}},
                timeout=aiohttp.ClientTimeout(total=0.5),
            ) as response:
                await response.read()
        gave_up = time.monotonic()
        assert sandbox.stats.requests == 3
        while sandbox.stats.abandoned < 3:
            waited = time.monotonic() - gave_up
            assert waited < 1.0, f"{sandbox.stats.abandoned} of 3 calls stopped within 1 s"
            await asyncio.sleep(0.02)
        # The subgraph answers the next request as usual.
        faults.hang = False
        async with session.post(
            url + "/graphql", json={"query": QUERY, "variables": {"r": reps[:5]}}
        ) as response:
            body = await response.json()
        assert "errors" not in body and len(body["data"]["_entities"]) == 5
