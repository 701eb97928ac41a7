"""Every sandbox's fault injection and admin switches: held calls whose caller hangs up
are counted, and the admin endpoints can be kept to the bearer of a token."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from sandbox import nssf
from sandbox.faults import Faults
from sandbox.population import generate_population
from tests.servers import serve

POPULATION = generate_population(200, seed=5)
LOOKUP = "/v1/members/by-spid"


async def stats(session: aiohttp.ClientSession, url: str) -> dict[str, int]:
    async with session.get(url + "/admin/stats") as response:
        return await response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("fault", [{"hang": True}, {"latency_ms": 20_000}])
async def test_a_held_call_whose_caller_hangs_up_is_counted_as_abandoned(
    fault: dict[str, object], tmp_path: Path
) -> None:
    faults = Faults()
    app = nssf.create_app(tmp_path / "nssf.db", seed_population=POPULATION, faults=faults)
    assert faults.update(fault) == []
    async with serve(app) as url, aiohttp.ClientSession() as session:
        with pytest.raises(TimeoutError):
            async with session.post(
                url + LOOKUP,
                json={"spids": [POPULATION.people[0].spid]},
                timeout=aiohttp.ClientTimeout(total=0.3),
            ) as response:
                await response.read()
        gave_up = time.monotonic()
        while (await stats(session, url))["abandoned"] == 0:
            assert time.monotonic() - gave_up < 1.0, "the hang-up was not noticed within 1 s"
            await asyncio.sleep(0.02)
        counted = await stats(session, url)
        assert (counted["requests"], counted["batch_requests"]) == (1, 0)


async def test_a_delayed_call_is_answered_in_full_after_its_delay(tmp_path: Path) -> None:
    faults = Faults(latency_ms=300)
    app = nssf.create_app(tmp_path / "nssf.db", seed_population=POPULATION, faults=faults)
    spids = [p.spid for p in POPULATION.people[:50]]
    async with serve(app) as url, aiohttp.ClientSession() as session:
        started = time.monotonic()
        async with session.post(url + LOOKUP, json={"spids": spids}) as response:
            body = await response.json()
        assert time.monotonic() - started >= 0.3
        assert [r["spid"] for r in body["results"]] == spids
        counted = await stats(session, url)
        assert (counted["batch_requests"], counted["abandoned"]) == (1, 0)


async def test_the_admin_switches_answer_only_the_bearer_of_the_admin_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TONLE_SANDBOX_ADMIN_TOKEN", "admin-token")
    app = nssf.create_app(tmp_path / "nssf.db", seed_population=POPULATION)
    good = {"Authorization": "Bearer admin-token"}
    async with serve(app) as url, aiohttp.ClientSession() as session:
        for method, path in (
            ("GET", "/admin/stats"),
            ("GET", "/admin/callers"),
            ("POST", "/admin/reset-stats"),
            ("GET", "/admin/config"),
            ("POST", "/admin/config"),
        ):
            for headers in ({}, {"Authorization": "Bearer wrong"}):
                async with session.request(
                    method, url + path, json={"hang": True}, headers=headers
                ) as response:
                    assert response.status == 401, (method, path, headers)
                    assert response.headers["WWW-Authenticate"] == "Bearer"
                    assert "TONLE_SANDBOX_ADMIN_TOKEN" in (await response.json())["error"]
        assert app.faults.hang is False  # the refused POST changed nothing
        async with session.post(url + "/admin/config", json={"latency_ms": 5}, headers=good) as r:
            assert r.status == 200
            assert (await r.json())["latency_ms"] == 5
        # The operator's own API, its description and its health stay as they were.
        async with session.post(url + LOOKUP, json={"spids": []}) as response:
            assert response.status == 200
        for path in ("/health", "/openapi.json"):
            async with session.get(url + path) as response:
                assert response.status == 200, path
