"""`tonle export` against the whole stack: a province as the NSPC's analysts see it (pseudonyms,
birth years), every page in the access log, and a SIGKILL mid-export then ``--resume`` giving
every person exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pyarrow.parquet as pq
import pytest
from graphql import build_client_schema, get_introspection_query
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from analysts.export import ExportRequest, run_export
from analysts.export_query import read_export_query
from analysts.gateway_client import Caller, GatewayClient
from policies.models import AccessRecord
from tests.policy_stack import PolicyStack, policy_stack
from tests.servers import serve

QUERY = """
query Export($area: String!, $first: Int!, $after: String) {
  people(provinceCode: $area, first: $first, after: $after) {
    edges { node { spid sex birthDate villageCode idpoor { level } nssf { active } } }
  }
}
"""


@pytest.fixture
async def stack(tmp_path: Path, database_url: str) -> AsyncIterator[PolicyStack]:
    async with policy_stack(database_url, tmp_path, people=300) as running:
        yield running


def biggest_province(stack: PolicyStack) -> tuple[str, set[str]]:
    by_province = Counter(p.village_code[:2] for p in stack.population.people)
    province = by_province.most_common(1)[0][0]
    return province, {p.spid for p in stack.population.people if p.village_code[:2] == province}


async def access_records(stack: PolicyStack, partner: str, expected: int) -> int:
    """The partner's records in the access log, once the writer has put ``expected`` there."""
    count = 0
    for _ in range(100):
        async with stack.sessions() as session:
            count = (
                await session.scalar(
                    select(func.count())
                    .select_from(AccessRecord)
                    .where(AccessRecord.partner == partner)
                )
                or 0
            )
        if count >= expected:
            return count
        await asyncio.sleep(0.05)
    return count


async def test_a_province_exported_as_the_analyst_sees_it_one_row_a_person(
    stack: PolicyStack, tmp_path: Path
) -> None:
    province, spids = biggest_province(stack)
    caller = Caller(stack.gateway + "/graphql", stack.key("nspc"), "statistics")
    out = tmp_path / "province.parquet"
    async with GatewayClient(caller) as client:
        schema = build_client_schema((await client.query(get_introspection_query(), {})).data)  # type: ignore[arg-type]
        query = read_export_query(QUERY, schema)
        progress = await run_export(
            client, ExportRequest(query, {"area": province}, out, "parquet", page_size=7)
        )
    table = pq.read_table(out).to_pylist()
    assert len(table) == len(spids) == progress.nodes
    assert list(table[0]) == [
        "spid",
        "sex",
        "birthDate",
        "villageCode",
        "idpoor.level",
        "nssf.active",
    ]
    # the agreement's masks: pseudonyms for SPIDs, a year for the birth date, the commune
    got = [row["spid"] for row in table]
    assert len(set(got)) == len(got) and not set(got) & spids
    assert all(row["birthDate"].endswith("-01-01") for row in table if row["birthDate"])
    assert {row["villageCode"][:2] for row in table} == {province}
    assert {len(row["villageCode"]) for row in table} == {6}
    assert await access_records(stack, "nspc", progress.pages) == progress.pages
    assert not out.with_name(out.name + ".checkpoint.json").exists()


def slow_proxy(target: str, delay_s: float) -> Starlette:
    """The gateway, each answer delayed: time to kill an export between two pages."""

    async def forward(request: Request) -> Response:
        await asyncio.sleep(delay_s)
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(target, data=await request.body(), headers=headers) as answer,
        ):
            body = await answer.read()
            return Response(body, answer.status, media_type=answer.headers.get("Content-Type"))

    return Starlette(routes=[Route("/graphql", forward, methods=["POST"])])


def export(
    url: str, key: str, out: Path, query: Path, area: str, *extra: str
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tonle.cli", "export", "--query", str(query), "--area", area]
    command += [
        "--format",
        "parquet",
        "--out",
        str(out),
        "--page-size",
        "4",
        "--gateway",
        url,
        "--quiet",
        *extra,
    ]
    env = {**os.environ, "TONLE_API_KEY": key}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


async def test_an_export_killed_mid_way_resumes_with_no_row_twice_and_none_missing(
    stack: PolicyStack, tmp_path: Path
) -> None:
    province, spids = biggest_province(stack)
    query = tmp_path / "people.graphql"
    query.write_text(QUERY)
    out = tmp_path / "province.parquet"
    checkpoint = out.with_name(out.name + ".checkpoint.json")
    async with serve(slow_proxy(stack.gateway + "/graphql", 0.3)) as proxy:
        first = export(proxy + "/graphql", stack.key("nspc"), out, query, province)
        try:
            for _ in range(300):
                if checkpoint.exists() and '"pages": 2' in checkpoint.read_text():
                    break
                assert first.poll() is None, first.communicate()
                await asyncio.sleep(0.02)
            first.send_signal(signal.SIGKILL)
        finally:
            first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL and not out.exists()
    # Starting again without --resume would lose nothing either: it refuses, saying what to do.
    again = export(stack.gateway + "/graphql", stack.key("nspc"), out, query, province)
    _, refusal = await asyncio.to_thread(again.communicate, timeout=60)
    assert again.returncode == 2 and b"add --resume" in refusal
    resumed = export(
        stack.gateway + "/graphql", stack.key("nspc"), out, query, province, "--resume"
    )
    _, said = await asyncio.to_thread(resumed.communicate, timeout=60)
    assert resumed.returncode == 0, said
    rows = pq.read_table(out).to_pylist()
    pseudonyms = [row["spid"] for row in rows]
    assert len(pseudonyms) == len(set(pseudonyms)) == len(spids)
    assert not checkpoint.exists() and not out.with_name(out.name + ".parts").exists()


async def test_a_scoped_partners_export_holds_only_its_areas_with_its_masks(
    stack: PolicyStack, tmp_path: Path
) -> None:
    # The NGO sees Phnom Penh (12) and Takeo (21) only, Khmer IDs as their last four digits.
    query_text = QUERY.replace("nssf { active }", "khmerId")
    caller = Caller(stack.gateway + "/graphql", stack.key("ngo-cash"), "eligibility_check")
    people = stack.population.people
    outside = next(p.village_code[:2] for p in people if p.village_code[:2] not in ("12", "21"))
    async with GatewayClient(caller) as client:
        schema = build_client_schema((await client.query(get_introspection_query(), {})).data)  # type: ignore[arg-type]
        query = read_export_query(query_text, schema)
        exported = {}
        for area in ("12", "21", outside):
            out = tmp_path / f"{area}.parquet"
            await run_export(client, ExportRequest(query, {"area": area}, out, "parquet", 50))
            exported[area] = pq.read_table(out).to_pylist()
    for area in ("12", "21"):
        expected = {p.spid: p for p in people if p.village_code[:2] == area}
        assert {row["spid"] for row in exported[area]} == set(expected)
        for row in exported[area]:
            khmer_id = expected[row["spid"]].khmer_id
            assert row["khmerId"] == (None if khmer_id is None else "*****" + khmer_id[-4:])
    assert len(exported["12"]) + len(exported["21"]) >= 10
    assert exported[outside] == []  # outside its scope, nobody exists for it
