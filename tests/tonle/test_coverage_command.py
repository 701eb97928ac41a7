"""``tonle coverage`` against the whole stack as the demo's analyst partner: the files it
writes hold the published figures only, and the HTML report links nothing and names no one."""

from __future__ import annotations

import asyncio
import csv
import os
import re
import sys
from pathlib import Path

import pyarrow.parquet as pq

from analysts.suppression import HIDDEN, suppress
from policies.audit import search_accesses
from tests.coverage_oracle import expected_tables
from tests.policy_stack import PolicyStack, policy_stack

PERIOD = "2026-10"
MEASURES = ("registered", "idpoor", "nssf", "pca", "overlaps")


async def tonle_coverage(stack: PolicyStack, out: Path, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tonle.cli", "coverage", "--period", PERIOD, "--out", str(out)),
        *("--gateway", stack.gateway + "/graphql", *args),
        env={**os.environ, "TONLE_API_KEY": stack.key("nspc")},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, output.decode()


def published(table: list[list[int | None]]) -> list[list[str]]:
    return [[HIDDEN if v is None else str(v) for v in line] for line in table]


async def test_the_report_files_hold_the_published_figures_and_no_one(tmp_path: Path) -> None:
    registry = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with policy_stack(registry, tmp_path, people=1000) as stack:
        out = tmp_path / "report"
        status, output = await tonle_coverage(
            stack, out, "--area", "21", "--by", "district", "--page-size", "50"
        )
        assert status == 0, output
        expected = expected_tables(tmp_path, stack.population, "21", PERIOD, "district")
        for name in MEASURES:
            truth = suppress(expected[name])
            with (out / f"{name}.csv").open(encoding="utf-8") as handle:
                rows = list(csv.reader(handle))
            header = ["area", "name", *expected[name].columns]
            assert rows[0] == header + (["total"] if truth.partition else [])
            assert [r[0] for r in rows[1:]] == [*expected[name].rows, "total"]
            assert [r[2:] for r in rows[1:]] == published([list(c) for c in truth.cells])
            table = pq.read_table(out / f"{name}.parquet").to_pylist()
            assert [[r[c] for c in header[2:]] for r in table] == [
                list(line[: len(header) - 2]) for line in truth.cells
            ]
            for chart in (f"{name}.png", f"{name}.svg"):
                assert (out / chart).stat().st_size > 1000

        html = (out / "coverage.html").read_text(encoding="utf-8")
        assert "Takeo" in html and "Tram Kak" in html
        assert re.findall(r'src="([^"]{0,22})', html) == ["data:image/png;base64,"] * 5
        text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
        assert re.search(r"https?:|//[a-z]|<script|<link|@import|url\(|href=", text, re.I) is None
        people = stack.population.people
        for person in people:
            assert person.spid not in html
            if person.khmer_id:
                assert person.khmer_id not in html
        names = {p.family_name for p in people} | {p.given_name for p in people}
        assert not any(p.family_name_km in html or p.given_name_km in html for p in people)
        words = set(re.findall(r"\w+", text))
        assert names & words == set()
        assert "ps_" not in html  # no pseudonym either

        # every page of people is in the access log, as the analyst's own requests
        in_area = sum(p.village_code.startswith("21") for p in people)
        log = (await search_accesses(stack.sessions, partner="nspc")).accesses
        assert [a.operation_name for a in log] == ["CoveragePage"] * ((in_area + 49) // 50)

        # villages are cut to the commune for the analyst: no report by village
        status, output = await tonle_coverage(
            stack, tmp_path / "v", "--area", "21", "--by", "village"
        )
        assert status == 2
        assert "Address.village is hidden from you" in output
