"""Issue 5's acceptance: the registry and all four operators behind one gateway, every part
real (sandboxes, subgraphs, gateway) over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import MetaData

from gateway import Gateway, create_app
from identity_store import (
    create_engine,
)
from sandbox import idpoor as idpoor_sandbox
from sandbox import moi as moi_sandbox
from sandbox import nssf as nssf_sandbox
from sandbox import pca as pca_sandbox
from sandbox.faults import FaultInjection
from sandbox.nssf.records import nssf_members
from sandbox.pca.records import certified_payments
from sandbox.population import Population, generate_population
from subgraphs import identity, idpoor, moi, nssf, pca
from tests.federation import live_supergraph, register_population
from tests.servers import free_port, serve

VILLAGE = "01020101"
SECRET = "test-gateway-secret"
API_KEY = "partner-key-1"
MAX_BATCH = 100
OPERATOR_TIMEOUT_S = 2.0
OPERATORS = ("nssf", "idpoor", "pca", "moi")
SANDBOXES = {"nssf": nssf_sandbox, "idpoor": idpoor_sandbox, "pca": pca_sandbox, "moi": moi_sandbox}
SUBGRAPHS = {"nssf": nssf, "idpoor": idpoor, "pca": pca, "moi": moi}
QUERY = """
query Consolidated($v: String!, $first: Int!) {
  people(villageCode: $v, first: $first) {
    edges { node {
      spid familyName
      nssf { memberId status schemes employer { name } }
      idpoor { level equityCardNumber }
      pcaPayments { paymentId programme period amountKhr }
    } }
  }
}
"""
POPULATIONS: dict[int, Population] = {}


def population(size: int) -> Population:
    if size not in POPULATIONS:
        POPULATIONS[size] = generate_population(size, seed=31)
    return POPULATIONS[size]


@dataclass
class Stack:
    gateway: str
    session: aiohttp.ClientSession
    population: Population
    sandboxes: dict[str, FaultInjection]
    registry_url: str
    sandbox_servers: dict[str, AsyncExitStack]

    async def stop_sandbox(self, name: str) -> None:
        """Shut the operator's system down: nothing listens on its port any more."""
        await self.sandbox_servers[name].aclose()

    async def query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        async with self.session.post(
            self.gateway + "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as response:
            assert response.status == 200
            return await response.json()  # type: ignore[no-any-return]

    async def subgraph_requests(self) -> dict[str, float]:
        async with self.session.get(self.gateway + "/metrics") as response:
            text = await response.text()
        pattern = r'^tonle_subgraph_requests_total\{subgraph="(\w+)"\} ([0-9.]+)$'
        return {m[1]: float(m[2]) for m in re.finditer(pattern, text, re.M)}


@asynccontextmanager
async def subgraph_process(name: str, operator_url: str) -> AsyncIterator[str]:
    """``python -m subgraphs.<name>`` in a process of its own, as it runs in production."""
    port = free_port()
    prefix = f"TONLE_{name.upper()}"
    env = {
        **os.environ,
        f"{prefix}_URL": operator_url,
        f"{prefix}_TIMEOUT_S": str(OPERATOR_TIMEOUT_S),
        f"{prefix}_MAX_BATCH": str(MAX_BATCH),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", f"subgraphs.{name}", "--port", str(port), env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(url + "/health") as response:
                        if response.status == 200:
                            break
                if process.returncode is not None:
                    raise RuntimeError(f"subgraphs.{name} exited with {process.returncode}")
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError(f"subgraphs.{name} did not start within 15 s")
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


@asynccontextmanager
async def running_stack(
    registry_url: str, tmp_path: Path, people: int, *, in_own_process: tuple[str, ...] = ()
) -> AsyncIterator[Stack]:
    pop = population(people)
    await register_population(registry_url, pop, village=VILLAGE, households=True)
    sandboxes = {
        name: module.create_app(
            tmp_path / f"{name}.db", seed_population=pop, max_batch_size=MAX_BATCH
        )
        for name, module in SANDBOXES.items()
    }
    os.environ["TONLE_GATEWAY_SECRET"] = SECRET
    try:
        async with AsyncExitStack() as exits:
            urls = {
                "identity": await exits.enter_async_context(
                    serve(identity.create_app(registry_url))
                )
            }
            servers = {name: AsyncExitStack() for name in OPERATORS}
            for server in servers.values():
                exits.push_async_callback(server.aclose)
            operator_urls = {
                name: await servers[name].enter_async_context(serve(sandboxes[name]))
                for name in OPERATORS
            }
            spawned = await asyncio.gather(
                *(
                    exits.enter_async_context(subgraph_process(name, operator_urls[name]))
                    for name in in_own_process
                )
            )
            urls.update(zip(in_own_process, spawned, strict=True))
            for name in OPERATORS:
                if name not in in_own_process:
                    app = SUBGRAPHS[name].create_app(
                        operator_urls[name], timeout_s=OPERATOR_TIMEOUT_S, max_batch=MAX_BATCH
                    )
                    urls[name] = await exits.enter_async_context(serve(app))
            session = await exits.enter_async_context(aiohttp.ClientSession())
            gateway = Gateway.from_sdl(await live_supergraph(session, urls, SECRET))
            app = create_app(gateway, partner_keys={API_KEY: "partner"}, gateway_secret=SECRET)
            url = await exits.enter_async_context(serve(app))
            yield Stack(url, session, pop, sandboxes, registry_url, servers)
    finally:
        del os.environ["TONLE_GATEWAY_SECRET"]


@pytest.fixture
async def thousand(tmp_path: Path) -> AsyncIterator[Stack]:
    registry = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    # The operator subgraphs run in processes of their own, as in production, so that
    # one operator's time budget does not wait on the others' work in this process.
    async with running_stack(registry, tmp_path, 1000, in_own_process=OPERATORS) as stack:
        yield stack


def _expected(pop: Population) -> dict[str, dict[str, Any]]:
    members = {m.spid: m for m in nssf_members(pop)}
    poor = {s: h for h in pop.idpoor_households for s in h.member_spids}
    paid: dict[str, list[str]] = {}
    for p in sorted(certified_payments(pop), key=lambda p: (p.spid, p.period, p.programme)):
        paid.setdefault(p.spid, []).append(p.payment_id)
    return {
        p.spid: {
            "nssf": members[p.spid].member_id if p.spid in members else None,
            "idpoor": poor[p.spid].equity_card_number if p.spid in poor else None,
            "pca": paid.get(p.spid, []),
        }
        for p in pop.people
    }


async def test_1000_people_cost_one_entities_request_per_operator_and_batched_calls(
    thousand: Stack,
) -> None:
    body = await thousand.query(QUERY, {"v": VILLAGE, "first": 1000})
    assert "errors" not in body, body.get("errors", [])[:3]
    nodes = [e["node"] for e in body["data"]["people"]["edges"]]
    assert len(nodes) == 1000
    expected = _expected(thousand.population)
    for node in nodes:
        want = expected[node["spid"]]
        assert (node["nssf"] or {}).get("memberId") == want["nssf"]
        assert (node["idpoor"] or {}).get("equityCardNumber") == want["idpoor"]
        assert [p["paymentId"] for p in node["pcaPayments"]] == want["pca"]
    assert all(sum(1 for n in nodes if n[f]) > 50 for f in ("nssf", "idpoor", "pcaPayments"))

    requests = await thousand.subgraph_requests()
    assert {name: requests.get(name) for name in ("nssf", "idpoor", "pca")} == {
        "nssf": 1.0,
        "idpoor": 1.0,
        "pca": 1.0,
    }
    assert "moi" not in requests  # not asked for, not called
    most = math.ceil(1000 / MAX_BATCH)
    for name in ("nssf", "idpoor", "pca"):
        stats = thousand.sandboxes[name].stats
        assert stats.requests <= most, (name, stats.as_dict())
        assert stats.spids_requested == 1000
    assert thousand.sandboxes["moi"].stats.requests == 0


@pytest.mark.parametrize("failure", ["outage", "down", "slow"])
async def test_one_operator_failing_nulls_its_fields_only_within_its_timeout(
    thousand: Stack, failure: str
) -> None:
    faults = thousand.sandboxes["nssf"].faults
    if failure == "outage":
        faults.outage = True  # it answers 503 to everything
    elif failure == "down":
        await thousand.stop_sandbox("nssf")  # connections refused
    else:
        faults.latency_ms = 30_000  # far past the subgraph's 2 s budget
    started = time.perf_counter()
    body = await thousand.query(QUERY, {"v": VILLAGE, "first": 1000})
    elapsed = time.perf_counter() - started
    assert elapsed < OPERATOR_TIMEOUT_S + 1

    nodes = [e["node"] for e in body["data"]["people"]["edges"]]
    assert len(nodes) == 1000
    assert all(n["nssf"] is None for n in nodes)
    expected = _expected(thousand.population)
    for node in nodes:
        assert node["familyName"]
        assert (node["idpoor"] or {}).get("equityCardNumber") == expected[node["spid"]]["idpoor"]
        assert [p["paymentId"] for p in node["pcaPayments"]] == expected[node["spid"]]["pca"]
    code = "OPERATOR_TIMEOUT" if failure == "slow" else "OPERATOR_UNAVAILABLE"
    assert {e["extensions"]["code"] for e in body["errors"]} == {code}
    assert sorted(e["path"][2] for e in body["errors"]) == list(range(1000))
    assert all(
        e["path"] == ["people", "edges", e["path"][2], "node", "nssf"] for e in body["errors"]
    )


async def test_a_dead_operator_fails_fast_once_its_circuit_is_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TONLE_PCA_BREAKER_FAILURES", "2")
    registry = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with running_stack(registry, tmp_path, 60) as stack:
        stack.sandboxes["pca"].faults.hang = True
        page = {"v": VILLAGE, "first": 60}
        for _ in range(2):  # two timeouts open the circuit
            body = await stack.query(QUERY, page)
            assert {e["extensions"]["code"] for e in body["errors"]} == {"OPERATOR_TIMEOUT"}
        calls = stack.sandboxes["pca"].stats.requests
        started = time.perf_counter()
        body = await stack.query(QUERY, page)
        assert time.perf_counter() - started < OPERATOR_TIMEOUT_S / 2  # no wait on it
        assert stack.sandboxes["pca"].stats.requests == calls
    assert {e["extensions"]["code"] for e in body["errors"]} == {"OPERATOR_UNAVAILABLE"}
    assert "circuit open" in body["errors"][0]["message"]
    nodes = [e["node"] for e in body["data"]["people"]["edges"]]
    assert all(n["pcaPayments"] is None and n["familyName"] for n in nodes)
    assert any(n["idpoor"] for n in nodes) and any(n["nssf"] for n in nodes)


async def test_moi_verification_and_household_idpoor_through_the_gateway(
    tmp_path: Path,
) -> None:
    registry = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with running_stack(registry, tmp_path, 120) as stack:
        body = await stack.query(
            """query($v: String!) { people(villageCode: $v, first: 120) { edges { node {
                 spid khmerId khmerIdVerification { result mismatchedFields }
                 declared: khmerIdVerification(birthDate: "1900-01-01") { result mismatchedFields }
                 household { householdId idpoor { level equityCardNumber } }
               } } } }""",
            {"v": VILLAGE},
        )
        assert stack.sandboxes["moi"].stats.batch_requests <= 2
        assert stack.sandboxes["idpoor"].stats.batch_requests == 1
    assert "errors" not in body
    poor = {h.household_id: h for h in stack.population.idpoor_households}
    for edge in body["data"]["people"]["edges"]:
        household = edge["node"]["household"]
        identified = poor.get(household["householdId"])
        want = (identified.level, identified.equity_card_number) if identified else None
        got = household["idpoor"]
        assert ((got["level"], got["equityCardNumber"]) if got else None) == want
    assert any(e["node"]["household"]["idpoor"] for e in body["data"]["people"]["edges"])
    nodes = [e["node"] for e in body["data"]["people"]["edges"]]
    results = {n["khmerIdVerification"]["result"] for n in nodes}
    assert {"MATCH", "NO_KHMER_ID"} <= results
    for node in nodes:
        if node["khmerId"] is None:
            assert node["khmerIdVerification"]["result"] == "NO_KHMER_ID"
        else:
            assert "BIRTH_DATE" in node["declared"]["mismatchedFields"]


def _programme_values(pop: Population) -> set[str]:
    values: set[str] = set()
    for m in nssf_members(pop):
        values |= {m.member_id, m.employer_name, m.employer_id}
    for h in pop.idpoor_households:
        values.add(h.equity_card_number)
    for p in certified_payments(pop):
        values.add(p.payment_id)
    return values


async def test_no_programme_data_lands_in_any_table_outside_the_operators(
    database_url: str, tmp_path: Path
) -> None:
    async with running_stack(database_url, tmp_path, 200) as stack:
        body = await stack.query(QUERY, {"v": VILLAGE, "first": 200})
        assert "errors" not in body
        assert any(e["node"]["nssf"] for e in body["data"]["people"]["edges"])

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:

            def every_row(sync: Any) -> dict[str, list[tuple[Any, ...]]]:
                metadata = MetaData()
                metadata.reflect(sync)
                return {
                    table.name: [tuple(row) for row in sync.execute(table.select())]
                    for table in metadata.sorted_tables
                }

            tables = await connection.run_sync(every_row)
    finally:
        await engine.dispose()
    assert "person" in tables and len(tables["person"]) == 200
    programme = _programme_values(stack.population)
    leaked = {
        (table, str(value))
        for table, rows in tables.items()
        for row in rows
        for value in row
        if value is not None and str(value) in programme
    }
    assert leaked == set()
    # nor does any table name speak of programme data
    assert not [t for t in tables if re.search("nssf|idpoor|equity|payment|member", t)]
    _assert_only_operators_and_the_registry_own_databases(tmp_path)


def _assert_only_operators_and_the_registry_own_databases(tmp_path: Path) -> None:
    # The gateway and the operator subgraphs own no database at all: the only databases
    # written are the registry's and the four sandboxes' own, and none of their code
    # opens one.
    databases = {p.name for p in tmp_path.iterdir() if p.suffix == ".db"}
    assert databases <= {"registry.db", "nssf.db", "idpoor.db", "pca.db", "moi.db"}
    root = Path(__file__).resolve().parent.parent
    opens_a_database = re.compile(
        r"^\s*(import|from)\s+(sqlite3|sqlalchemy|aiosqlite|asyncpg)", re.M
    )
    for package in ("gateway", "subgraphs/operator", *(f"subgraphs/{o}" for o in OPERATORS)):
        for source in (root / package).rglob("*.py"):
            assert not opens_a_database.search(source.read_text(encoding="utf-8")), source
