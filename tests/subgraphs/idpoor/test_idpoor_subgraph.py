"""The idpoor subgraph against the real IDPoor sandbox over HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from identity_store.spid import new_spid
from sandbox.faults import Faults
from sandbox.idpoor import create_app as create_sandbox
from sandbox.idpoor import seed
from sandbox.population import Population, generate_population
from subgraphs.idpoor import IDPOOR, create_app
from tests.servers import free_port, serve

ENTITIES = """
query($r: [_Any!]!) {
  _entities(representations: $r) { ... on Person { spid idpoor { level equityCardNumber round } } }
}
"""


@dataclass
class Setup:
    subgraph: str
    sandbox: str
    session: aiohttp.ClientSession
    population: Population
    faults: Faults

    async def entities(self, spids: list[str]) -> dict[str, Any]:
        reps = [{"__typename": "Person", "spid": s} for s in spids]
        async with self.session.post(
            self.subgraph + "/graphql", json={"query": ENTITIES, "variables": {"r": reps}}
        ) as response:
            return await response.json()  # type: ignore[no-any-return]

    async def sandbox_stats(self) -> dict[str, Any]:
        async with self.session.get(self.sandbox + "/admin/stats") as response:
            return await response.json()  # type: ignore[no-any-return]


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    population = generate_population(300, seed=5)
    seed(tmp_path / "idpoor.db", population.idpoor_households)
    faults = Faults()
    async with AsyncExitStack() as stack:
        sandbox = await stack.enter_async_context(
            serve(create_sandbox(tmp_path / "idpoor.db", max_batch_size=100, faults=faults))
        )
        subgraph = await stack.enter_async_context(
            serve(create_app(sandbox, timeout_s=0.5, max_batch=100))
        )
        session = await stack.enter_async_context(aiohttp.ClientSession())
        yield Setup(subgraph, sandbox, session, population, faults)


async def test_one_sandbox_call_answers_a_batch_of_100(setup: Setup) -> None:
    spids = [p.spid for p in setup.population.people[:100]]
    body = await setup.entities(spids)
    assert "errors" not in body
    poor = {s: h for h in setup.population.idpoor_households for s in h.member_spids}
    for spid, entity in zip(spids, body["data"]["_entities"], strict=True):
        assert entity["spid"] == spid
        if spid in poor:
            assert entity["idpoor"]["level"] == poor[spid].level
            assert entity["idpoor"]["equityCardNumber"] == poor[spid].equity_card_number
        else:
            assert entity["idpoor"] is None
    assert (await setup.sandbox_stats())["batch_requests"] == 1


async def test_a_batch_larger_than_the_operator_allows_is_split(setup: Setup) -> None:
    spids = [p.spid for p in setup.population.people[:250]]
    body = await setup.entities(spids)
    assert len(body["data"]["_entities"]) == 250
    assert (await setup.sandbox_stats())["batch_requests"] == 3
    async with setup.session.get(setup.subgraph + "/metrics") as response:
        assert 'tonle_operator_requests_total{operator="idpoor"} 3.0' in await response.text()


async def test_an_operator_outage_nulls_the_field_with_operator_unavailable(setup: Setup) -> None:
    setup.faults.outage = True
    body = await setup.entities([p.spid for p in setup.population.people[:3]])
    assert [e["idpoor"] for e in body["data"]["_entities"]] == [None, None, None]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"OPERATOR_UNAVAILABLE"}
    assert body["errors"][0]["path"] == ["_entities", 0, "idpoor"]


async def test_a_slow_operator_is_operator_timeout(setup: Setup) -> None:
    setup.faults.latency_ms = 2000
    body = await setup.entities([setup.population.people[0].spid])
    assert body["data"]["_entities"][0]["idpoor"] is None
    assert body["errors"][0]["extensions"]["code"] == "OPERATOR_TIMEOUT"


async def test_an_unreachable_operator_is_operator_unavailable() -> None:
    app = create_app(f"http://127.0.0.1:{free_port()}", timeout_s=1)
    async with serve(app) as url, aiohttp.ClientSession() as session:
        reps = [{"__typename": "Person", "spid": new_spid()}]
        async with session.post(
            url + "/graphql", json={"query": ENTITIES, "variables": {"r": reps}}
        ) as response:
            body = await response.json()
    assert body["errors"][0]["extensions"]["code"] == "OPERATOR_UNAVAILABLE"
    assert "cannot be reached" in body["errors"][0]["message"]


async def test_the_sdl_extends_person(setup: Setup) -> None:
    async with setup.session.post(
        setup.subgraph + "/graphql", json={"query": "{ _service { sdl } }"}
    ) as response:
        sdl = (await response.json())["data"]["_service"]["sdl"]
    assert 'type Person @key(fields: "spid")' in sdl
    assert '@link(url: "https://specs.apollo.dev/federation/v2.' in sdl
    assert "round: String!" in sdl
    assert "idpoor: IdPoorStatus" in sdl


async def test_a_hanging_operator_is_operator_timeout_for_every_person(setup: Setup) -> None:
    setup.faults.hang = True
    spids = [p.spid for p in setup.population.people[:4]]
    body = await setup.entities(spids)
    assert [e["idpoor"] for e in body["data"]["_entities"]] == [None] * 4
    assert [e["extensions"]["code"] for e in body["errors"]] == ["OPERATOR_TIMEOUT"] * 4
    assert [e["path"][1] for e in body["errors"]] == [0, 1, 2, 3]


async def test_repeated_and_unknown_spids_share_one_call(setup: Setup) -> None:
    poor = setup.population.idpoor_households[0]
    spid = poor.member_spids[0]
    body = await setup.entities([spid, "999999999999", spid])
    assert "errors" not in body
    first, unknown, again = body["data"]["_entities"]
    assert first == again
    assert first["idpoor"]["round"] == poor.round
    assert unknown["idpoor"] is None
    stats = await setup.sandbox_stats()
    assert (stats["batch_requests"], stats["spids_requested"]) == (1, 2)


async def test_every_status_field_is_served(setup: Setup) -> None:
    poor = setup.population.idpoor_households[0]
    query = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Person {
      idpoor { level equityCardNumber validFrom validUntil round householdId cardValidToday } } } }"""
    reps = [{"__typename": "Person", "spid": poor.member_spids[0]}]
    async with setup.session.post(
        setup.subgraph + "/graphql", json={"query": query, "variables": {"r": reps}}
    ) as response:
        body = await response.json()
    assert body["data"]["_entities"][0]["idpoor"] == {
        "level": poor.level,
        "equityCardNumber": poor.equity_card_number,
        "validFrom": poor.valid_from.isoformat(),
        "validUntil": poor.valid_until.isoformat(),
        "round": poor.round,
        "householdId": poor.household_id,
        "cardValidToday": poor.valid_from <= dt.date.today() <= poor.valid_until,
    }


async def test_an_operator_refusing_the_batch_size_is_operator_unavailable(
    tmp_path: Path,
) -> None:
    population = generate_population(100, seed=6)
    sandbox_app = create_sandbox(tmp_path / "i.db", seed_population=population, max_batch_size=5)
    reps = [{"__typename": "Person", "spid": p.spid} for p in population.people[:8]]
    async with (
        serve(sandbox_app) as sandbox,
        serve(create_app(sandbox, max_batch=10)) as url,
        aiohttp.ClientSession() as session,
    ):
        async with session.post(
            url + "/graphql", json={"query": ENTITIES, "variables": {"r": reps}}
        ) as response:
            body = await response.json()
        async with session.get(url + "/metrics") as response:
            metrics = await response.text()
    assert {e["extensions"]["code"] for e in body["errors"]} == {"OPERATOR_UNAVAILABLE"}
    assert "HTTP 413" in body["errors"][0]["message"]
    assert 'tonle_operator_requests_total{operator="idpoor"} 1.0' in metrics


def test_the_operator_url_is_required_and_settings_are_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TONLE_IDPOOR_URL", raising=False)
    with pytest.raises(SystemExit, match="TONLE_IDPOOR_URL"):
        create_app()
    monkeypatch.setenv("TONLE_IDPOOR_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("TONLE_IDPOOR_TIMEOUT_S", "soon")
    with pytest.raises(SystemExit, match="TONLE_IDPOOR_TIMEOUT_S"):
        create_app()
    monkeypatch.setenv("TONLE_IDPOOR_TIMEOUT_S", "2.5")
    settings = IDPOOR.settings()
    assert (settings.url, settings.timeout_s, settings.max_batch) == (
        "http://127.0.0.1:9",
        2.5,
        100,
    )
