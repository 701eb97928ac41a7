"""The analyst API: export jobs for a partner key, through the whole stack."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import aiohttp
import pyarrow.parquet as pq
import pytest

from analysts.web import AnalystConfig, create_analyst_app
from tests.analysts.test_export_stack import QUERY, biggest_province, slow_proxy
from tests.policy_stack import PolicyStack
from tests.servers import serve


def as_partner(stack: PolicyStack, partner: str, purpose: str = "statistics") -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.key(partner)}", "X-Purpose": purpose}


async def finished(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> Any:
    for _ in range(600):
        async with session.get(url, headers=headers) as response:
            job = await response.json()
        if job["status"] != "running":
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("the job did not end in 30 s")


async def test_an_export_job_pages_a_province_for_the_key_that_started_it(
    stack: PolicyStack, analyst: str
) -> None:
    province, spids = biggest_province(stack)
    nspc = as_partner(stack, "nspc")
    body = {"query": QUERY, "area": province, "format": "parquet", "pageSize": 9}
    async with aiohttp.ClientSession() as session:
        async with session.post(analyst + "/api/exports", json=body, headers=nspc) as response:
            assert response.status == 202
            job = await response.json()
            location = response.headers["Location"]
        assert location == f"/api/jobs/{job['id']}"
        done = await finished(session, analyst + location, nspc)
        assert done["status"] == "done", done
        assert done["files"] == ["export.parquet"]
        assert done["progress"]["nodes"] == len(spids)
        url = f"{analyst}{location}/files/export.parquet"
        async with session.get(url, headers=nspc) as response:
            assert response.status == 200
            table = pq.read_table(io.BytesIO(await response.read()))
        assert table.num_rows == len(spids)
        assert not set(table.column("spid").to_pylist()) & spids  # pseudonyms
        # another partner's key: no such job, not "forbidden" (it does not learn it exists)
        for path in (location, location + "/files/export.parquet"):
            async with session.get(analyst + path, headers=as_partner(stack, "ngo-cash")) as r:
                assert r.status == 404
        async with session.get(analyst + location) as response:
            assert response.status == 401
            assert "Authorization: Bearer" in (await response.json())["error"]["message"]


async def test_a_query_outside_the_agreement_fails_the_job_saying_which_field(
    stack: PolicyStack, analyst: str
) -> None:
    # The NGO's agreement has no nssf: its export of nssf fields fails naming the field.
    query = QUERY.replace("provinceCode: $area, ", "")
    body = {"query": query.replace("$area: String!, ", ""), "format": "csv"}
    ngo = as_partner(stack, "ngo-cash", "eligibility_check")
    async with aiohttp.ClientSession() as session:
        async with session.post(analyst + "/api/exports", json=body, headers=ngo) as response:
            job = await response.json()
        done = await finished(session, f"{analyst}/api/jobs/{job['id']}", ngo)
    assert done["status"] == "failed"
    assert "is not in the schema you may query" in done["error"], done


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"format": "csv"}, 400, "query: give the GraphQL query"),
        ({"query": "{ x }", "format": "xlsx"}, 400, "format is csv or parquet"),
        ({"query": "{ x }", "area": "12; DROP"}, 400, "area: a gazetteer code"),
        ({"query": "{ x }", "pageSize": 50000}, 400, "pageSize: 1 to 10000"),
        ({"query": "x" * 70000}, 413, "KiB"),
    ],
)
async def test_a_bad_export_request_is_refused_saying_what_to_fix(
    stack: PolicyStack, analyst: str, body: dict[str, Any], status: int, says: str
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(analyst + "/api/exports", json=body, headers=as_partner(stack, "nspc")) as r,
    ):
        assert r.status == status
        assert says in (await r.json())["error"]["message"]


async def test_one_key_runs_a_bounded_number_of_jobs_at_once(
    stack: PolicyStack, tmp_path: Path
) -> None:
    province, _ = biggest_province(stack)
    nspc = as_partner(stack, "nspc")
    body = {"query": QUERY, "area": province, "format": "csv", "pageSize": 5}
    async with serve(slow_proxy(stack.gateway + "/graphql", 0.2)) as slow:
        config = AnalystConfig(slow + "/graphql", tmp_path / "jobs", per_key=1)
        async with serve(create_analyst_app(config)) as analyst, aiohttp.ClientSession() as session:
            async with session.post(analyst + "/api/exports", json=body, headers=nspc) as first:
                assert first.status == 202
                job = await first.json()
            async with session.post(analyst + "/api/exports", json=body, headers=nspc) as second:
                assert second.status == 429
                assert "at most 1 at once" in (await second.json())["error"]["message"]
            # another partner's key is not held up by this one's jobs
            ngo = as_partner(stack, "ngo-cash", "eligibility_check")
            async with session.post(analyst + "/api/exports", json=body, headers=ngo) as third:
                assert third.status == 202
            assert (await finished(session, f"{analyst}/api/jobs/{job['id']}", nspc))[
                "status"
            ] == "done"
            async with session.post(analyst + "/api/exports", json=body, headers=nspc) as fourth:
                assert fourth.status == 202  # once it has ended, the key may start another


async def test_the_area_picker_names_areas_in_english_and_khmer(analyst: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(analyst + "/api/areas") as response:
            provinces = (await response.json())["areas"]
        async with session.get(analyst + "/api/areas?parent=12") as response:
            districts = (await response.json())["areas"]
        async with session.get(analyst + "/api/areas?parent=../etc") as response:
            assert response.status == 400
    assert len(provinces) == 25
    phnom_penh = next(p for p in provinces if p["code"] == "12")
    assert phnom_penh["name_en"] == "Phnom Penh" and phnom_penh["name_km"]
    assert districts and all(
        d["code"].startswith("12") and d["level"] == "district" for d in districts
    )


async def test_an_export_past_the_jobs_byte_cap_stops_and_keeps_no_file(
    stack: PolicyStack, tmp_path: Path
) -> None:
    # One key must not fill the service's disk: a job stops at its cap, saying what to do.
    province, _ = biggest_province(stack)
    config = AnalystConfig(stack.gateway + "/graphql", tmp_path / "jobs", max_job_bytes=4096)
    nspc = as_partner(stack, "nspc")
    body = {"query": QUERY, "area": province, "format": "csv", "pageSize": 20}
    async with serve(create_analyst_app(config)) as analyst, aiohttp.ClientSession() as session:
        async with session.post(analyst + "/api/exports", json=body, headers=nspc) as response:
            job = await response.json()
        done = await finished(session, f"{analyst}/api/jobs/{job['id']}", nspc)
    assert done["status"] == "failed" and done["files"] == []
    assert "passed 4 KiB after" in done["error"] and "tonle export" in done["error"]
    assert [p for p in (tmp_path / "jobs").rglob("*") if p.is_file()] == []
