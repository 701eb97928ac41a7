"""The four operator sandboxes over HTTP: what they share, and what each one answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox import idpoor, moi, nssf, pca
from sandbox.faults import FaultInjection
from sandbox.moi.records import khmer_id_records
from sandbox.nssf.records import nssf_members
from sandbox.pca.records import certified_payments
from sandbox.population import generate_population
from tests.servers import serve

POPULATION = generate_population(400, seed=21)
CHECK = {"khmer_id": "1", "family_name": "A", "given_name": "B", "birth_date": "2000-01-01"}

# operator -> (create_app, seed, batch path, the body key, a valid item)
OPERATORS: dict[str, tuple[Callable[..., FaultInjection], Callable[..., int], str, str, Any]] = {
    "idpoor": (idpoor.create_app, idpoor.seed, "/v1/households/by-member", "spids", "1"),
    "nssf": (nssf.create_app, nssf.seed, "/v1/members/by-spid", "spids", "1"),
    "pca": (pca.create_app, pca.seed, "/v1/payments/by-beneficiary", "spids", "1"),
    "moi": (moi.create_app, moi.seed, "/v1/verifications", "checks", CHECK),
}


@dataclass
class Running:
    url: str
    session: aiohttp.ClientSession
    app: FaultInjection

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        async with self.session.post(self.url + path, json=body) as response:
            return response.status, await response.json()

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(self.url + path) as response:
            return response.status, await response.json()


@asynccontextmanager
async def running(operator: str, tmp_path: Path, **options: Any) -> AsyncIterator[Running]:
    create_app = OPERATORS[operator][0]
    app = create_app(tmp_path / f"{operator}.db", seed_population=POPULATION, **options)
    async with serve(app) as url, aiohttp.ClientSession() as session:
        yield Running(url, session, app)


@pytest.mark.parametrize("operator", sorted(OPERATORS))
async def test_every_sandbox_limits_batches_describes_itself_and_counts(
    operator: str, tmp_path: Path
) -> None:
    _, seed, path, key, item = OPERATORS[operator]
    async with running(operator, tmp_path, max_batch_size=3) as sandbox:
        status, body = await sandbox.post(path, {key: [item] * 3})
        assert status == 200
        assert len(body["results"]) == 3
        status, body = await sandbox.post(path, {key: [item] * 4})
        assert (status, "the maximum is 3" in body["error"]) == (413, True)
        status, body = await sandbox.post(path, {key: "nope"})
        assert status == 400
        _, stats = await sandbox.get("/admin/stats")
        assert (stats["requests"], stats["batch_requests"], stats["spids_requested"]) == (3, 1, 3)
        _, spec = await sandbox.get("/openapi.json")
        assert spec["openapi"].startswith("3.1")
        assert (
            spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"][
                "properties"
            ][key]["maxItems"]
            == 3
        )
        sandbox.app.faults.outage = True
        assert (await sandbox.post(path, {key: []}))[0] == 503
        assert (await sandbox.get("/health"))[0] == 200
    assert seed(tmp_path / f"{operator}.db", POPULATION) == 0  # seeded once already


@pytest.mark.parametrize("operator", ["nssf", "moi", "pca"])
async def test_faults_and_the_batch_limit_come_from_the_operators_variables(
    operator: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = f"TONLE_{operator.upper()}"
    monkeypatch.setenv(f"{prefix}_ERROR_RATE", "1")
    monkeypatch.setenv(f"{prefix}_JITTER_MS", "5")
    monkeypatch.setenv(f"{prefix}_MAX_BATCH", "2")
    _, _, path, key, item = OPERATORS[operator]
    async with running(operator, tmp_path) as sandbox:
        _, config = await sandbox.get("/admin/config")
        assert (config["error_rate"], config["jitter_ms"]) == (1, 5)
        assert (await sandbox.post(path, {key: [item]}))[0] == 500
        await sandbox.post("/admin/config", {"error_rate": 0})
        assert (await sandbox.post(path, {key: [item] * 3}))[0] == 413


async def test_nssf_answers_members_with_employer_schemes_and_contributions(
    tmp_path: Path,
) -> None:
    members = nssf_members(POPULATION)
    assert 0 < len(members) < len(POPULATION.people)
    member = members[0]
    outsider = next(p.spid for p in POPULATION.people if p.spid not in {m.spid for m in members})
    async with running("nssf", tmp_path) as sandbox:
        status, body = await sandbox.post("/v1/members/by-spid", {"spids": [member.spid, outsider]})
        assert status == 200
        found, missing = body["results"]
        _, one = await sandbox.get(f"/v1/members/{member.member_id}")
        assert (await sandbox.get("/v1/members/nope"))[0] == 404
    assert missing == {"spid": outsider, "member": None}
    assert (
        found["member"]
        == one
        == {
            "member_id": member.member_id,
            "employer": {"employer_id": member.employer_id, "name": member.employer_name},
            "schemes": list(member.schemes),
            "status": member.status,
            "months_of_contributions": member.months_of_contributions,
            "last_contribution_date": member.last_contribution_date.isoformat(),
        }
    )
    assert len({m.member_id for m in members}) == len(members)


async def test_moi_verifies_without_ever_returning_the_record(tmp_path: Path) -> None:
    person = next(p for p in POPULATION.people if p.khmer_id)
    record = next(r for r in khmer_id_records(POPULATION) if r.khmer_id == person.khmer_id)
    exact = {
        "khmer_id": record.khmer_id,
        "family_name": record.family_name.upper(),  # case does not matter
        "given_name": record.given_name,
        "birth_date": record.birth_date.isoformat(),
    }
    wrong = {
        **exact,
        "given_name": "Nobody",
        "birth_date": (record.birth_date - dt.timedelta(days=1)).isoformat(),
    }
    unknown = {**exact, "khmer_id": "000000000"}
    async with running("moi", tmp_path) as sandbox:
        status, body = await sandbox.post("/v1/verifications", {"checks": [exact, wrong, unknown]})
        bad_date = await sandbox.post(
            "/v1/verifications", {"checks": [{**exact, "birth_date": "x"}]}
        )
    assert status == 200
    assert body["results"] == [
        {"khmer_id": record.khmer_id, "result": "match", "mismatches": []},
        {
            "khmer_id": record.khmer_id,
            "result": "mismatch",
            "mismatches": ["given_name", "birth_date"],
        },
        {"khmer_id": "000000000", "result": "not_found", "mismatches": []},
    ]
    assert bad_date[0] == 400


def test_some_moi_records_differ_from_the_registry() -> None:
    population = generate_population(2000, seed=3)
    registry = {p.khmer_id: p for p in population.people if p.khmer_id}
    records = khmer_id_records(population)
    assert len(records) == len(registry)
    differing = [
        r
        for r in records
        if (r.given_name, r.birth_date)
        != (registry[r.khmer_id].given_name, registry[r.khmer_id].birth_date)
    ]
    assert 0 < len(differing) < len(records) * 0.1


async def test_pca_answers_payments_per_beneficiary_in_riel(tmp_path: Path) -> None:
    payments = certified_payments(POPULATION)
    head = POPULATION.idpoor_households[0].member_spids[0]
    theirs = [p for p in payments if p.spid == head]
    assert {p.programme for p in theirs} >= {"family_package"}
    nobody = "000000000000"
    async with running("pca", tmp_path) as sandbox:
        status, body = await sandbox.post("/v1/payments/by-beneficiary", {"spids": [head, nobody]})
    assert status == 200
    paid, none = body["results"]
    assert none == {"spid": nobody, "payments": []}
    assert len(paid["payments"]) == len(theirs)
    first = min(theirs, key=lambda p: (p.period, p.programme))
    assert paid["payments"][0] == {
        "payment_id": first.payment_id,
        "programme": first.programme,
        "period": first.period,
        "amount_khr": first.amount_khr,
        "certified_at": first.certified_at.isoformat(),
        "status": first.status,
    }
    assert dt.datetime.fromisoformat(first.certified_at.isoformat()).utcoffset() == dt.timedelta(
        hours=7
    )


async def test_idpoor_answers_households_by_id_with_members(tmp_path: Path) -> None:
    household = POPULATION.idpoor_households[0]
    async with running("idpoor", tmp_path) as sandbox:
        status, body = await sandbox.post(
            "/v1/households/by-id", {"household_ids": [household.household_id, "nope"]}
        )
    assert status == 200
    found, missing = body["results"]
    assert found["household"]["member_spids"] == sorted(household.member_spids)
    assert found["household"]["level"] == household.level
    assert missing == {"household_id": "nope", "household": None}
