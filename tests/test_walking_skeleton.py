"""One federated query end to end: partner → gateway → identity subgraph → registry, and
gateway → idpoor subgraph → IDPoor system. Every part real, over HTTP on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway import Gateway, create_app
from sandbox.idpoor import create_app as create_sandbox
from sandbox.idpoor import seed
from sandbox.population import Population, generate_population
from subgraphs.identity import create_app as create_identity
from subgraphs.idpoor import create_app as create_idpoor
from tests.federation import live_supergraph, register_population
from tests.servers import serve

VILLAGE = "01020101"
SECRET = "test-gateway-secret"
API_KEY = "partner-key-1"
QUERY = """
query Village($v: String!, $first: Int!) {
  people(villageCode: $v, first: $first) {
    edges { node { spid familyName idpoor { level } } }
  }
}
"""


@dataclass
class Stack:
    gateway: str
    identity: str
    sandbox: str
    session: aiohttp.ClientSession
    population: Population

    async def query(self, variables: dict[str, Any]) -> dict[str, Any]:
        async with self.session.post(
            self.gateway + "/graphql",
            json={"query": QUERY, "variables": variables},
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as response:
            assert response.status == 200
            return await response.json()  # type: ignore[no-any-return]

    async def metric(self, url: str, line: str) -> str | None:
        async with self.session.get(url + "/metrics") as response:
            text = await response.text()
        return next((row for row in text.splitlines() if row.startswith(line)), None)


@pytest.fixture
async def stack(database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    population = generate_population(150, seed=9)
    await register_population(database_url, population, village=VILLAGE)
    seed(tmp_path / "idpoor.db", population.idpoor_households)
    os.environ["TONLE_GATEWAY_SECRET"] = SECRET
    try:
        async with AsyncExitStack() as exits:
            sandbox = await exits.enter_async_context(
                serve(create_sandbox(tmp_path / "idpoor.db", max_batch_size=100))
            )
            identity = await exits.enter_async_context(serve(create_identity(database_url)))
            idpoor = await exits.enter_async_context(serve(create_idpoor(sandbox)))
            session = await exits.enter_async_context(aiohttp.ClientSession())
            subgraphs = {"identity": identity, "idpoor": idpoor}
            gateway = Gateway.from_sdl(await live_supergraph(session, subgraphs, SECRET))
            app = create_app(gateway, partner_keys={API_KEY: "partner"}, gateway_secret=SECRET)
            url = await exits.enter_async_context(serve(app))
            yield Stack(url, identity, sandbox, session, population)
    finally:
        del os.environ["TONLE_GATEWAY_SECRET"]


async def test_a_village_query_joins_the_registry_and_idpoor(stack: Stack) -> None:
    body = await stack.query({"v": VILLAGE, "first": 5})
    assert "errors" not in body
    nodes = [edge["node"] for edge in body["data"]["people"]["edges"]]
    by_spid = {p.spid: p for p in stack.population.people}
    poor = {s: h.level for h in stack.population.idpoor_households for s in h.member_spids}
    assert len(nodes) == 5
    assert [n["spid"] for n in nodes] == sorted(by_spid)[:5]
    for node in nodes:
        assert node["familyName"] == by_spid[node["spid"]].family_name
        expected = {"level": poor[node["spid"]]} if node["spid"] in poor else None
        assert node["idpoor"] == expected


async def test_100_people_cost_one_entities_request_and_one_operator_call(stack: Stack) -> None:
    body = await stack.query({"v": VILLAGE, "first": 100})
    nodes = [edge["node"] for edge in body["data"]["people"]["edges"]]
    assert len(nodes) == 100
    assert sum(1 for n in nodes if n["idpoor"] is not None) > 0
    assert (
        await stack.metric(stack.gateway, 'tonle_subgraph_requests_total{subgraph="idpoor"}')
    ) == 'tonle_subgraph_requests_total{subgraph="idpoor"} 1.0'
    async with stack.session.get(stack.sandbox + "/admin/stats") as response:
        stats = await response.json()
    assert stats["batch_requests"] == 1
    assert stats["spids_requested"] == 100


async def test_subgraphs_refuse_a_partner_who_goes_around_the_gateway(stack: Stack) -> None:
    async with stack.session.post(
        stack.identity + "/graphql", json={"query": QUERY, "variables": {"v": VILLAGE, "first": 1}}
    ) as response:
        assert response.status == 401
        body = await response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in body
    async with stack.session.post(
        stack.gateway + "/graphql", json={"query": QUERY, "variables": {"v": VILLAGE, "first": 1}}
    ) as response:
        assert response.status == 401  # and the gateway wants a partner key
