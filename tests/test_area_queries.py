"""Area queries through the gateway under the demo policy: a partner scoped to provinces 12
and 21 (ngo-cash) pages people and households of every level of the gazetteer and finds
exactly its scope's people in them, counted by ``totalCount``; elsewhere, no one exists.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from identity_store.gazetteer import area_codes
from sandbox.population import SyntheticPerson
from tests.policy_stack import PolicyStack, policy_stack
from tests.test_access_policies import agreement_of, republish

SCOPE = ("12", "21")
LEVELS = {
    "provinceCode": "province_code",
    "districtCode": "district_code",
    "communeCode": "commune_code",
}


@pytest.fixture
async def stack(database_url: str, tmp_path: Path) -> AsyncIterator[PolicyStack]:
    if not database_url.startswith("sqlite"):
        pytest.skip("the registry's scope is tested on PostgreSQL in tests/subgraphs/identity")
    async with policy_stack(database_url, tmp_path, people=400) as running:
        # The NGO also pages households (the demo agreement gives it people only).
        def households_too(data: dict[str, Any]) -> None:
            fields = agreement_of(data, "ngo-cash")["fields"]
            fields["Query"] = [*fields["Query"], "households"]
            fields["Household"] = ["householdId", "address", "headSpid", "members"]
            fields["HouseholdMember"] = "*"
            fields["HouseholdConnection"] = "*"
            fields["HouseholdEdge"] = "*"

        await republish(running, households_too)
        yield running


def code_of(person: SyntheticPerson, argument: str) -> str:
    return area_codes(person.village_code)[LEVELS[argument]]


PEOPLE = """query($a: String, $after: String) {
  people(%s: $a, first: 7, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { spid } }
  }
}"""
HOUSEHOLDS = """query($a: String, $after: String) {
  households(%s: $a, first: 7, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { householdId headSpid members { person { spid } } } }
  }
}"""


async def pages(stack: PolicyStack, query: str, field: str, code: str) -> tuple[list[Any], int]:
    nodes: list[Any] = []
    after = None
    while True:
        reply = await stack.ask("ngo-cash", query, {"a": code, "after": after})
        assert reply.status == 200 and "errors" not in reply.body, reply.body
        page = reply.data[field]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes, page["totalCount"]
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize("argument", list(LEVELS))
async def test_a_scoped_partner_pages_exactly_its_people_at_every_level(
    stack: PolicyStack, argument: str
) -> None:
    people = stack.population.people
    in_scope = {p.spid for p in people if p.village_code[:2] in SCOPE}
    codes = sorted({code_of(p, argument) for p in people})
    inside = [c for c in codes if c[:2] in SCOPE][:2]
    outside = [c for c in codes if c[:2] not in SCOPE][:2]
    assert inside and outside
    for code in [*inside, *outside]:
        expected = sorted(
            p.spid for p in people if code_of(p, argument) == code and p.spid in in_scope
        )
        nodes, total = await pages(stack, PEOPLE % argument, "people", code)
        assert [n["spid"] for n in nodes] == expected
        assert total == len(expected)
        households = sorted(
            h.household_id
            for h in stack.population.households
            if area_codes(h.village_code)[LEVELS[argument]] == code
            and any(spid in in_scope for spid, _ in h.members)
        )
        nodes, total = await pages(stack, HOUSEHOLDS % argument, "households", code)
        assert [n["householdId"] for n in nodes] == households
        assert total == len(households)
        for node in nodes:
            shown = {m["person"]["spid"] for m in node["members"]}
            assert shown <= in_scope
        if code[:2] not in SCOPE:
            assert expected == households == []


async def test_households_by_area_are_filtered_like_people_by_area(stack: PolicyStack) -> None:
    """Without the household's place in its agreement, a partner cannot page households by area."""
    await republish(
        stack, lambda d: agreement_of(d, "ngo-cash")["fields"]["Household"].pop("address")
    )
    reply = await stack.ask(
        "ngo-cash", '{ households(provinceCode: "12", first: 5) { totalCount } }'
    )
    assert reply.codes and set(reply.codes) <= {
        "GRAPHQL_VALIDATION_FAILED",
        "UNAUTHORIZED_FIELD_OR_TYPE",
    }
