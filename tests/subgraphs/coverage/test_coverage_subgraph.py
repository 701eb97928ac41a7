"""``coverage(areaCode:, period:, by:)`` through the whole stack: the coverage subgraph pages
through the gateway as the partner that asked, under a delegation the gateway issued."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from analysts.coverage_run import count_coverage
from analysts.gateway_client import Caller, GatewayClient
from analysts.suppression import extended, suppress
from policies.audit import search_accesses, who_saw
from policies.delegation import Delegation, DelegationUses
from tests.coverage_oracle import expected_tables
from tests.policy_stack import SECRET, PolicyStack, policy_stack
from tests.test_access_policies import agreement_of, republish

PERIOD = "2026-10"
AREA = "21"  # Takeo: 153 of the 1,000 people, in four districts
COVERAGE = """
query C($a: String!, $p: String!, $by: CoverageBreakdown) {
  coverage(areaCode: $a, period: $p, by: $by) {
    areaCode areaName period by threshold notes
    tables { name columns partition rows { areaCode name total cells { column count text } } }
  }
}
"""


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[PolicyStack]:
    registry = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with policy_stack(registry, tmp_path, people=1000, coverage=True) as running:
        yield running


def cells(table: dict[str, Any]) -> list[list[int | None]]:
    return [[c["count"] for c in row["cells"]] for row in table["rows"]]


async def coverage(stack: PolicyStack, partner: str = "nspc", **asked: Any) -> Any:
    variables = {"a": AREA, "p": PERIOD, "by": None, **asked}
    reply = await stack.ask(partner, COVERAGE, variables)
    assert reply.status == 200 and "errors" not in reply.body, reply.body
    return reply.data["coverage"]


async def change_policy(stack: PolicyStack, change: Any) -> None:
    """Publish the policy changed by ``change`` and wait until the gateway enforces it."""
    number = await republish(stack, change)
    deadline = time.monotonic() + 5
    while stack.access.store.state.version != number:
        assert time.monotonic() < deadline, "the gateway did not take the new policy"
        await asyncio.sleep(0.05)


async def test_coverage_equals_the_sandboxes_own_databases(
    stack: PolicyStack, tmp_path: Path
) -> None:
    for by in (None, "district"):
        expected = expected_tables(tmp_path, stack.population, AREA, PERIOD, by)
        # the counts before suppression, as the analyst's own key pages them
        caller = Caller(stack.gateway + "/graphql", stack.key("nspc"))
        async with GatewayClient(caller) as client:
            counts = await count_coverage(client, AREA, PERIOD, by, page_size=50)
        for measure in counts.measures():
            assert counts.count_table(measure) == expected[measure.name], measure.name
        # the published figures, through GraphQL: each shown one true, the rest hidden
        report = await coverage(stack, by=by.upper() if by else None)
        assert (report["areaCode"], report["areaName"], report["notes"]) == (AREA, "Takeo", [])
        shown = 0
        for table in report["tables"]:
            truth = expected[table["name"]]
            assert cells(table) == [list(line) for line in suppress(truth).cells], table["name"]
            grid = extended(truth)
            for i, line in enumerate(cells(table)):
                for j, value in enumerate(line):
                    assert value is None or (value == grid[i][j] and value >= 10)
                    shown += value is not None
            assert [row["areaCode"] for row in table["rows"]] == [*truth.rows, None]
        assert shown >= 10  # not everything is hidden


async def test_every_page_is_in_the_access_log_as_the_partners_through_coverage(
    stack: PolicyStack,
) -> None:
    reply = await stack.ask(
        "nspc",
        COVERAGE,
        {"a": AREA, "p": PERIOD, "by": "DISTRICT"},
        headers={"X-Tonle-End-User": "analyst-7"},
    )
    assert reply.status == 200 and "errors" not in reply.body
    people = [p for p in stack.population.people if p.village_code.startswith(AREA)]
    pages = (len(people) + 99) // 100  # the stack's coverage subgraph asks 100 a page
    log = (await search_accesses(stack.sessions, partner="nspc")).accesses
    delegated = [a for a in log if a.operation_name == "via coverage: CoveragePage"]
    assert len(delegated) == pages
    assert {(a.purpose, a.end_user) for a in delegated} == {("statistics", "analyst-7")}
    # the partner's own request is logged too, holding aggregates and no one
    (outer,) = [a for a in log if "Query.coverage" in a.fields]
    assert outer.operation_name == "C"
    for person in people[::10]:
        (access,) = (await who_saw(stack.sessions, person.spid)).accesses
        assert access.operation_name == "via coverage: CoveragePage"


async def test_a_scoped_analyst_counts_only_the_people_in_scope(
    stack: PolicyStack, tmp_path: Path
) -> None:
    scope = {"areas": ["2104", "2110"], "own_registrations": False}
    await change_policy(stack, lambda d: agreement_of(d, "nspc").update(scope=scope))
    report = await coverage(stack, by="DISTRICT")
    assert [r["areaCode"] for r in report["tables"][0]["rows"]] == ["2104", "2110", None]
    expected = expected_tables(
        tmp_path, stack.population, AREA, PERIOD, "district", areas_in_scope=["2104", "2110"]
    )
    for table in report["tables"]:
        assert cells(table) == [list(line) for line in suppress(expected[table["name"]]).cells]


async def test_a_field_the_agreement_hides_or_masks_leaves_its_measure_out(
    stack: PolicyStack,
) -> None:
    def change(data: dict[str, Any]) -> None:
        agreement = agreement_of(data, "nspc")
        agreement["fields"]["Person"]["nssf"] = "hidden"
        agreement["fields"]["IdPoorStatus"] = {"level": "nullify", "validFrom": "visible"}

    await change_policy(stack, change)
    report = await coverage(stack)
    assert [t["name"] for t in report["tables"]] == ["registered", "pca"]
    assert report["notes"] == [
        "No IDPoor figures: IdPoorStatus.level is masked (nullify) for you under your "
        "agreement, so they are left out rather than counted as zeros.",
        "No NSSF figures: Person.nssf is hidden from you under your agreement, so they are "
        "left out rather than counted as zeros.",
    ]


async def test_a_partner_cannot_learn_through_coverage_what_its_agreement_hides(
    stack: PolicyStack,
) -> None:
    # ngo-cash has no coverage at all: the field does not exist for it
    refused = await stack.ask("ngo-cash", COVERAGE, {"a": AREA, "p": PERIOD})
    assert set(refused.codes) == {"GRAPHQL_VALIDATION_FAILED"}

    # given coverage, it still counts only what it sees: IDPoor, no NSSF, no PCA
    def grant(data: dict[str, Any]) -> None:
        fields = agreement_of(data, "ngo-cash")["fields"]
        fields["Query"]["coverage"] = "visible"
        for name in ("Coverage", "CoverageTable", "CoverageRow", "CoverageCell"):
            fields[name] = "*"

    await change_policy(stack, grant)
    report = await coverage(stack, "ngo-cash")
    assert [t["name"] for t in report["tables"]] == ["registered", "idpoor"]
    assert any("Person.nssf is hidden" in note for note in report["notes"])
    assert any("Person.pcaPayments is hidden" in note for note in report["notes"])
    # and its scope (Phnom Penh and Takeo) holds: nothing of Kampong Cham (04)
    outside = await coverage(stack, "ngo-cash", a="04")
    assert cells(outside["tables"][0]) == [[None]]  # no rows, a total of 0 (hidden)


async def send_use(
    stack: PolicyStack, headers: dict[str, str], query: str = "{ __typename }"
) -> Any:
    async with stack.session.post(
        stack.gateway + "/graphql", json={"query": query}, headers=headers
    ) as response:
        return response.status, await response.json()


async def test_forged_expired_and_replayed_delegations_are_refused(stack: PolicyStack) -> None:
    gateway = DelegationUses(SECRET)
    held = Delegation.from_token(
        gateway.issue("nspc", "statistics", None), "nspc", "statistics", None
    )
    first = held.headers()
    assert (await send_use(stack, first))[0] == 200
    status, body = await send_use(stack, first)
    assert status == 401 and "replayed" in body["errors"][0]["message"]

    forged = Delegation.from_token(
        DelegationUses("not-the-gateway-secret").issue("nspc", "statistics", None),
        "nspc",
        "statistics",
        None,
    )
    status, body = await send_use(stack, forged.headers())
    assert (status, body["errors"][0]["extensions"]["code"]) == (401, "UNAUTHENTICATED")

    expired = DelegationUses(SECRET, clock=lambda: time.time() - 120)
    stale = Delegation.from_token(
        expired.issue("nspc", "statistics", None), "nspc", "statistics", None
    )
    status, body = await send_use(stack, stale.headers())
    assert status == 401 and "expired" in body["errors"][0]["message"]

    # for the partner and purpose it was issued for only
    other = held.headers() | {"X-Purpose": "grievance"}
    assert (await send_use(stack, other))[0] == 401


async def test_a_delegated_request_cannot_ask_for_coverage_again(stack: PolicyStack) -> None:
    held = Delegation.from_token(
        DelegationUses(SECRET).issue("nspc", "statistics", None), "nspc", "statistics", None
    )
    query = '{ coverage(areaCode: "21", period: "2026-10") { areaCode } }'
    status, body = await send_use(stack, held.headers(), query)
    assert (status, body["errors"][0]["extensions"]["code"]) == (403, "UNAUTHORIZED_FIELD_OR_TYPE")


async def test_delegated_requests_count_against_the_partners_rate_budget(
    stack: PolicyStack,
) -> None:
    # Tram Kak (2109): 19 people, one page. A coverage costs the request itself, the
    # subgraph's look at the partner's fields and one page: three of a budget of three.
    await change_policy(
        stack, lambda d: agreement_of(d, "nspc")["limits"].update(requests_per_minute=3)
    )
    report = await coverage(stack, a="2109")
    assert report["tables"][0]["rows"][0]["cells"][0]["count"] == 19
    again = await stack.ask("nspc", "{ __typename }")
    assert (again.status, again.codes) == (429, ["RATE_LIMITED"])
