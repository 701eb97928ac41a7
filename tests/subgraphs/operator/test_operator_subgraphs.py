"""The nssf, moi, pca and idpoor subgraphs against their real sandboxes over HTTP, directly
and through a stand-in CamDX (X-Road) security server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from policies import Caller
from sandbox import idpoor as idpoor_sandbox
from sandbox import moi as moi_sandbox
from sandbox import nssf as nssf_sandbox
from sandbox import pca as pca_sandbox
from sandbox.moi.records import khmer_id_records
from sandbox.nssf.records import nssf_members
from sandbox.pca.records import certified_payments
from sandbox.population import generate_population
from subgraphs import idpoor, moi, nssf, pca
from subgraphs.operator import XRoad
from tests.servers import serve

POPULATION = generate_population(300, seed=17)


@dataclass
class Client:
    url: str
    session: aiohttp.ClientSession

    async def entities(
        self, selection: str, reps: list[dict[str, Any]], headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        query = f"query($r: [_Any!]!) {{ _entities(representations: $r) {{ {selection} }} }}"
        return await self.graphql(query, {"r": reps}, headers)

    async def graphql(
        self, query: str, variables: dict[str, Any], headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        async with self.session.post(
            self.url + "/graphql",
            json={"query": query, "variables": variables},
            headers=headers or {},
        ) as response:
            return await response.json()  # type: ignore[no-any-return]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def person(spid: str, **fields: Any) -> dict[str, Any]:
    return {"__typename": "Person", "spid": spid, **fields}


async def test_nssf_membership_per_person_in_one_call(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    members = {m.spid: m for m in nssf_members(POPULATION)}
    spids = [p.spid for p in POPULATION.people[:60]]
    sandbox_app = nssf_sandbox.create_app(tmp_path / "nssf.db", seed_population=POPULATION)
    async with serve(sandbox_app) as sandbox, serve(nssf.create_app(sandbox)) as url:
        body = await Client(url, session).entities(
            "... on Person { spid nssf { memberId employer { name } schemes status active "
            "monthsOfContributions lastContributionDate } }",
            [person(s) for s in spids],
        )
    assert "errors" not in body
    assert sandbox_app.stats.batch_requests == 1
    for spid, entity in zip(spids, body["data"]["_entities"], strict=True):
        member = members.get(spid)
        if member is None:
            assert entity["nssf"] is None
            continue
        assert entity["nssf"] == {
            "memberId": member.member_id,
            "employer": {"name": member.employer_name},
            "schemes": [s.upper() for s in member.schemes],
            "status": member.status.upper(),
            "active": member.status == "active",
            "monthsOfContributions": member.months_of_contributions,
            "lastContributionDate": member.last_contribution_date.isoformat(),
        }
    assert any(e["nssf"] for e in body["data"]["_entities"])


async def test_pca_payments_filtered_by_programme_and_period(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    head = POPULATION.idpoor_households[0].member_spids[0]
    theirs = sorted(
        (p for p in certified_payments(POPULATION) if p.spid == head),
        key=lambda p: (p.period, p.programme),
    )
    sandbox_app = pca_sandbox.create_app(tmp_path / "pca.db", seed_population=POPULATION)
    async with serve(sandbox_app) as sandbox, serve(pca.create_app(sandbox)) as url:
        client = Client(url, session)
        body = await client.entities(
            "... on Person { all: pcaPayments { paymentId programme period amountKhr "
            'certifiedAt status } recent: pcaPayments(programme: "family_package", '
            'sincePeriod: "2026-08") { period } }',
            [person(head), person("000000000000")],
        )
    assert "errors" not in body
    paid, nobody = body["data"]["_entities"]
    assert nobody == {"all": [], "recent": []}
    assert [p["paymentId"] for p in paid["all"]] == [p.payment_id for p in theirs]
    assert paid["all"][0]["amountKhr"] == theirs[0].amount_khr
    assert paid["all"][0]["certifiedAt"] == theirs[0].certified_at.isoformat()
    assert [p["period"] for p in paid["recent"]] == [
        p.period for p in theirs if p.programme == "family_package" and p.period >= "2026-08"
    ]
    assert sandbox_app.stats.batch_requests == 1  # both aliases share one call


async def test_moi_verifies_the_registry_record_or_what_the_partner_gives(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    records = {r.khmer_id: r for r in khmer_id_records(POPULATION)}
    adult = next(
        p
        for p in POPULATION.people
        if p.khmer_id
        and records[p.khmer_id].given_name == p.given_name
        and records[p.khmer_id].birth_date == p.birth_date
    )
    child = next(p for p in POPULATION.people if not p.khmer_id)

    def rep(p: Any) -> dict[str, Any]:
        return person(
            p.spid,
            khmerId=p.khmer_id,
            familyName=p.family_name,
            givenName=p.given_name,
            birthDate=p.birth_date.isoformat(),
        )

    sandbox_app = moi_sandbox.create_app(tmp_path / "moi.db", seed_population=POPULATION)
    async with serve(sandbox_app) as sandbox, serve(moi.create_app(sandbox)) as url:
        client = Client(url, session)
        body = await client.entities(
            "... on Person { registry: khmerIdVerification { result mismatchedFields } "
            'declared: khmerIdVerification(givenName: "Someone Else") '
            "{ result mismatchedFields } }",
            [rep(adult), rep(child)],
        )
        direct = await client.graphql(
            'query($k: String!) { verifyKhmerId(khmerId: $k, familyName: "X", '
            'givenName: "Y", birthDate: "2000-01-01") { result } }',
            {"k": "000000001"},
        )
    assert "errors" not in body
    assert body["data"]["_entities"] == [
        {
            "registry": {"result": "MATCH", "mismatchedFields": []},
            "declared": {"result": "MISMATCH", "mismatchedFields": ["GIVEN_NAME"]},
        },
        {
            "registry": {"result": "NO_KHMER_ID", "mismatchedFields": []},
            "declared": {"result": "NO_KHMER_ID", "mismatchedFields": []},
        },
    ]
    assert direct["data"] == {"verifyKhmerId": {"result": "NOT_FOUND"}}
    assert sandbox_app.stats.batch_requests == 2  # the entities' checks, then the root field
    assert sandbox_app.stats.spids_requested == 3


async def test_idpoor_answers_households_as_entities(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    poor = POPULATION.idpoor_households[:3]
    reps = [{"__typename": "Household", "householdId": h.household_id} for h in poor]
    reps.append({"__typename": "Household", "householdId": "HH-not-poor"})
    sandbox_app = idpoor_sandbox.create_app(tmp_path / "i.db", seed_population=POPULATION)
    async with serve(sandbox_app) as sandbox, serve(idpoor.create_app(sandbox)) as url:
        body = await Client(url, session).entities(
            "... on Household { householdId idpoor { level equityCardNumber } }", reps
        )
    assert "errors" not in body
    assert body["data"]["_entities"] == [
        *(
            {
                "householdId": h.household_id,
                "idpoor": {"level": h.level, "equityCardNumber": h.equity_card_number},
            }
            for h in poor
        ),
        {"householdId": "HH-not-poor", "idpoor": None},
    ]
    assert sandbox_app.stats.batch_requests == 1


CLIENT = "CAMBODIA/GOV/MOSVY/TONLE"
SERVICE = "CAMBODIA/GOV/NSSF/MEMBERS/nssf-api"


def security_server(provider: str, seen: list[dict[str, str]]) -> Starlette:
    """A stand-in CamDX security server: checks the X-Road request, forwards it to the provider."""
    prefix = f"/r1/{SERVICE}"

    async def forward(request: Request) -> Response:
        path = request.url.path
        headers = request.headers
        seen.append({k: v for k, v in headers.items() if k.startswith("x-road")})
        if not path.startswith(prefix + "/"):
            return JSONResponse({"type": "Server.ServerProxy.UnknownService"}, status_code=500)
        if headers.get("x-road-client") != CLIENT:
            return JSONResponse({"type": "Server.ServerProxy.AccessDenied"}, status_code=403)
        try:
            uuid.UUID(headers.get("x-road-id", ""))
        except ValueError:
            return JSONResponse({"type": "Client.BadRequest"}, status_code=400)
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method,
                provider + path.removeprefix(prefix),
                data=await request.body(),
                headers={"Content-Type": "application/json"},
            ) as answer,
        ):
            return Response(
                await answer.read(), status_code=answer.status, media_type="application/json"
            )

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])


async def test_the_same_subgraph_reaches_the_operator_through_x_road(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    members = nssf_members(POPULATION)
    spids = [m.spid for m in members[:5]]
    seen: list[dict[str, str]] = []
    sandbox_app = nssf_sandbox.create_app(tmp_path / "nssf.db", seed_population=POPULATION)
    xroad = XRoad(CLIENT, SERVICE)
    async with (
        serve(sandbox_app) as sandbox,
        serve(security_server(sandbox, seen)) as gateway_side,
        serve(nssf.create_app(gateway_side, xroad=xroad, max_batch=2)) as url,
    ):
        client = Client(url, session)
        body = await client.entities(
            "... on Person { nssf { memberId } }",
            [person(s) for s in spids],
            headers=Caller("moh", "eligibility_check", end_user="clinic-7").headers(),
        )
        anonymous = await client.entities("... on Person { nssf { memberId } }", [person(spids[0])])
    assert "errors" not in body
    assert [e["nssf"]["memberId"] for e in body["data"]["_entities"]] == [
        m.member_id for m in members[:5]
    ]
    assert sandbox_app.stats.batch_requests == 4  # 3 chunks, then the second query
    assert len(seen) == 4
    assert len({h["x-road-id"] for h in seen}) == 4
    assert {h["x-road-client"] for h in seen} == {CLIENT}  # ours, never the partner's
    assert {h.get("x-road-userid") for h in seen[:3]} == {"moh/clinic-7"}
    assert {h.get("x-road-issue") for h in seen[:3]} == {"eligibility_check"}
    assert "x-road-userid" not in seen[3]  # no caller known, none sent
    assert "x-road-issue" not in seen[3]
    assert "errors" not in anonymous


async def test_an_x_road_refusal_is_operator_unavailable(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    seen: list[dict[str, str]] = []
    sandbox_app = nssf_sandbox.create_app(tmp_path / "nssf.db", seed_population=POPULATION)
    xroad = XRoad("CAMBODIA/GOV/SOMEONE/ELSE", SERVICE)
    async with (
        serve(sandbox_app) as sandbox,
        serve(security_server(sandbox, seen)) as side,
        serve(nssf.create_app(side, xroad=xroad)) as url,
    ):
        body = await Client(url, session).entities(
            "... on Person { nssf { memberId } }", [person(POPULATION.people[0].spid)]
        )
    assert body["data"]["_entities"] == [{"nssf": None}]
    assert body["errors"][0]["extensions"]["code"] == "OPERATOR_UNAVAILABLE"
    assert "HTTP 403" in body["errors"][0]["message"]
    assert sandbox_app.stats.requests == 0


async def _metrics(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url + "/metrics") as response:
        return await response.text()


async def test_metrics_show_call_latency_the_circuit_and_the_cache(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    spids = [p.spid for p in POPULATION.people[:5]]
    sandbox_app = nssf_sandbox.create_app(tmp_path / "nssf.db", seed_population=POPULATION)
    async with (
        serve(sandbox_app) as sandbox,
        serve(nssf.create_app(sandbox, cache_ttl_s=60)) as url,
    ):
        client = Client(url, session)
        for _ in range(2):  # the second time, every person comes from the cache
            await client.entities("... on Person { nssf { memberId } }", [person(s) for s in spids])
        text = await _metrics(session, url)
    assert 'tonle_operator_request_seconds_count{operator="nssf",outcome="ok"} 1.0' in text
    assert 'tonle_operator_cache_hits_total{operator="nssf"} 5.0' in text
    assert 'tonle_operator_cache_misses_total{operator="nssf"} 5.0' in text
    assert 'tonle_operator_circuit_state{operator="nssf",state="closed"} 1.0' in text

    # An operator nobody answers for: failures are timed, and the circuit opens.
    dead = "http://127.0.0.1:9"
    async with serve(nssf.create_app(dead, retries=0, breaker_failures=1)) as url:
        body = await Client(url, session).entities(
            "... on Person { nssf { memberId } }", [person(spids[0])]
        )
        text = await _metrics(session, url)
    assert body["errors"][0]["extensions"]["code"] == "OPERATOR_UNAVAILABLE"
    assert 'tonle_operator_request_seconds_count{operator="nssf",outcome="error"} 1.0' in text
    assert 'tonle_operator_circuit_state{operator="nssf",state="open"} 1.0' in text
    assert 'tonle_operator_cache_hits_total{operator="nssf"} 0.0' in text


async def test_a_malformed_spid_never_reaches_the_operator_nor_fails_the_batch(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    # Representations carry SPIDs another system returned; one malformed (a typo in an
    # operator's record, a NUL) answers as an unknown person would, and the others resolve.
    members = {m.spid: m for m in nssf_members(POPULATION)}
    member = next(iter(members))
    bad = ["12345", member[:-1] + str((int(member[-1]) + 1) % 10), "\u0000" * 12, "x" * 5000]
    sandbox_app = nssf_sandbox.create_app(tmp_path / "nssf.db", seed_population=POPULATION)
    pca_app = pca_sandbox.create_app(tmp_path / "pca.db", seed_population=POPULATION)
    async with (
        serve(sandbox_app) as sandbox,
        serve(nssf.create_app(sandbox)) as url,
        serve(pca_app) as pca_sandbox_url,
        serve(pca.create_app(pca_sandbox_url)) as pca_url,
    ):
        body = await Client(url, session).entities(
            "... on Person { spid nssf { memberId } }", [person(s) for s in [member, *bad]]
        )
        paid = await Client(pca_url, session).entities(
            "... on Person { pcaPayments { period } }", [person(s) for s in bad]
        )
    assert "errors" not in body
    assert body["data"]["_entities"][0]["nssf"] == {"memberId": members[member].member_id}
    assert [e["nssf"] for e in body["data"]["_entities"][1:]] == [None] * len(bad)
    assert sandbox_app.stats.spids_requested == 1  # only the well-formed SPID was sent
    # PCA answers an unknown person with no payments (null would mean PCA is unreachable).
    assert paid == {"data": {"_entities": [{"pcaPayments": []}] * len(bad)}}
    assert pca_app.stats.batch_requests == 0
