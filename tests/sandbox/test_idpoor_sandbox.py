"""The IDPoor sandbox over HTTP: batch lookups, limits, injected faults and counters."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox.idpoor import create_app, seed
from sandbox.population import Population, generate_population
from tests.servers import serve


@dataclass
class Sandbox:
    url: str
    session: aiohttp.ClientSession
    population: Population

    async def lookup(self, spids: list[str]) -> tuple[int, Any]:
        async with self.session.post(
            self.url + "/v1/households/by-member", json={"spids": spids}
        ) as response:
            return response.status, await response.json()

    async def admin(self, path: str, body: dict[str, Any] | None = None) -> Any:
        method = self.session.post if body is not None or "reset" in path else self.session.get
        async with method(self.url + path, json=body) as response:
            return await response.json()


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    population = generate_population(400, seed=11)
    seed(tmp_path / "idpoor.db", population.idpoor_households)
    app = create_app(tmp_path / "idpoor.db", max_batch_size=50)
    async with serve(app) as url, aiohttp.ClientSession() as session:
        yield Sandbox(url, session, population)


def test_seeding_twice_adds_nothing_the_second_time(tmp_path: Path) -> None:
    population = generate_population(300, seed=2)
    first = seed(tmp_path / "db", population.idpoor_households)
    assert first == len(population.idpoor_households) > 0
    assert seed(tmp_path / "db", population.idpoor_households) == 0


async def test_a_batch_answers_each_spid_in_order(sandbox: Sandbox) -> None:
    poor = sandbox.population.idpoor_households[0]
    not_poor = next(
        p.spid
        for p in sandbox.population.people
        if all(p.spid not in h.member_spids for h in sandbox.population.idpoor_households)
    )
    spids = [not_poor, poor.member_spids[0], "000000000000"]
    status, body = await sandbox.lookup(spids)
    assert status == 200
    assert [r["spid"] for r in body["results"]] == spids
    assert body["results"][0]["household"] is None
    assert body["results"][1]["household"]["equity_card_number"] == poor.equity_card_number
    assert body["results"][1]["household"]["level"] == poor.level
    assert body["results"][2]["household"] is None
    assert (await sandbox.admin("/admin/stats"))["batch_requests"] == 1


async def test_an_oversized_batch_is_refused_with_the_limit(sandbox: Sandbox) -> None:
    status, body = await sandbox.lookup(["1"] * 51)
    assert status == 413
    assert "maximum is 50" in body["error"]
    status, body = await sandbox.lookup("nope")  # type: ignore[arg-type]
    assert status == 400


async def test_outage_and_latency_can_be_injected(sandbox: Sandbox) -> None:
    assert (await sandbox.admin("/admin/config", {"outage": True}))["outage"] is True
    status, _ = await sandbox.lookup([])
    assert status == 503
    await sandbox.admin("/admin/config", {"outage": False, "latency_ms": 200})
    started = time.perf_counter()
    status, _ = await sandbox.lookup([])
    assert status == 200
    assert time.perf_counter() - started >= 0.2
    body = await sandbox.admin("/admin/config", {"latency_ms": -1, "bogus": 1})
    assert "latency_ms must be a number" in body["error"]
    assert "unknown setting 'bogus'" in body["error"]


async def test_counters_count_and_reset(sandbox: Sandbox) -> None:
    await sandbox.lookup([])
    await sandbox.lookup([])
    assert (await sandbox.admin("/admin/stats"))["requests"] == 2
    await sandbox.admin("/admin/reset-stats")
    assert (await sandbox.admin("/admin/stats"))["requests"] == 0


async def test_the_api_is_described_and_households_have_members(sandbox: Sandbox) -> None:
    async with sandbox.session.get(sandbox.url + "/openapi.json") as response:
        spec = await response.json()
    assert "/v1/households/by-member" in spec["paths"]
    poor = sandbox.population.idpoor_households[0]
    async with sandbox.session.get(f"{sandbox.url}/v1/households/{poor.household_id}") as r:
        body = await r.json()
    assert sorted(body["member_spids"]) == sorted(poor.member_spids)
    async with sandbox.session.get(f"{sandbox.url}/v1/households/nope") as r:
        assert r.status == 404


async def test_a_population_given_to_the_app_is_seeded_once(tmp_path: Path) -> None:
    population = generate_population(200, seed=8)
    create_app(tmp_path / "idpoor.db", seed_population=population)
    app = create_app(tmp_path / "idpoor.db", seed_population=population)
    assert seed(tmp_path / "idpoor.db", population) == 0
    poor = population.idpoor_households[0]
    async with (
        serve(app) as url,
        aiohttp.ClientSession() as session,
        session.post(
            url + "/v1/households/by-member", json={"spids": list(poor.member_spids)}
        ) as response,
    ):
        body = await response.json()
    assert [r["household"]["household_id"] for r in body["results"]] == [poor.household_id] * len(
        poor.member_spids
    )
    assert body["results"][0]["household"] == {
        "household_id": poor.household_id,
        "village_code": poor.village_code,
        "level": poor.level,
        "equity_card_number": poor.equity_card_number,
        "valid_from": poor.valid_from.isoformat(),
        "valid_until": poor.valid_until.isoformat(),
        "round": poor.round,
    }


async def test_faults_and_batch_limit_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TONLE_IDPOOR_OUTAGE", "1")
    monkeypatch.setenv("TONLE_IDPOOR_LATENCY_MS", "50")
    monkeypatch.setenv("TONLE_IDPOOR_MAX_BATCH", "2")
    app = create_app(tmp_path / "idpoor.db")
    async with serve(app) as url, aiohttp.ClientSession() as session:
        async with session.get(url + "/admin/config") as response:
            config = await response.json()
        assert config["outage"] is True
        assert config["latency_ms"] == 50
        async with session.post(url + "/v1/households/by-member", json={"spids": []}) as r:
            assert r.status == 503
            assert "outage" in (await r.json())["error"]
        await session.post(url + "/admin/config", json={"outage": False})
        async with session.post(
            url + "/v1/households/by-member", json={"spids": ["1", "2", "3"]}
        ) as r:
            assert r.status == 413
            assert "maximum is 2" in (await r.json())["error"]


async def test_an_error_rate_of_one_fails_every_request(sandbox: Sandbox) -> None:
    await sandbox.admin("/admin/config", {"error_rate": 1})
    assert (await sandbox.lookup([]))[0] == 500
    body = await sandbox.admin("/admin/config", {"error_rate": 1.5})
    assert "between 0 and 1" in body["error"]
    async with sandbox.session.get(sandbox.url + "/health") as response:
        assert response.status == 200  # health and admin are never faulted


async def test_a_hanging_sandbox_never_answers(sandbox: Sandbox) -> None:
    await sandbox.admin("/admin/config", {"hang": True})
    with pytest.raises(TimeoutError):
        async with sandbox.session.post(
            sandbox.url + "/v1/households/by-member",
            json={"spids": []},
            timeout=aiohttp.ClientTimeout(total=0.3),
        ):
            pass
