"""Row scope over HTTP: outside a caller's scope a person answers exactly as an unknown one.

Every path that returns a person or a SPID is asked for an in-scope and an out-of-scope
person; the out-of-scope answer is compared whole with the answer for a SPID (or Khmer ID,
household ID, review case) that no one has.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.caller import RowScope
from tests.subgraphs.identity.registry import (
    AWAY,
    DISTRICT,
    IN,
    NEIGHBOUR,
    PROVINCE,
    UNKNOWN_SPID,
    Seeded,
    caller,
    same_answer,
    seeded_registry,
)

SCOPES = {
    "province": RowScope(areas=("01",)),
    "district": RowScope(areas=("0102",)),
    "commune": RowScope(areas=("010201",)),
    "village": RowScope(areas=(IN,)),
    "operator": RowScope(operator="nssf"),
    "areas and operator": RowScope(areas=("01",), operator="nssf"),
}
AREA_01 = caller(("01",))

PERSON = """query($s: String!) { person(spid: $s) {
  spid familyName villageCode status
  household { householdId headSpid members { relationship person { spid } } }
  programLinks { operator registeredSpid }
  history { kind otherSpid }
} }"""


@pytest.fixture
async def seeded(database_url: str) -> AsyncIterator[Seeded]:
    async with seeded_registry(database_url) as registry:
        yield registry


def leaks(body: dict[str, Any], seeded: Seeded, scope: RowScope) -> set[str]:
    """The seeded SPIDs in ``body`` that do not answer anyone in ``scope``."""
    admitted = seeded.admitted(scope)
    named = re.findall(r"\b\d{12}\b", orjson.dumps(body).decode())
    return {
        spid for spid in named if spid not in admitted and seeded.merged.get(spid) not in admitted
    }


@pytest.mark.parametrize("level", SCOPES)
async def test_a_person_out_of_scope_answers_as_an_unknown_spid(seeded: Seeded, level: str) -> None:
    scope = SCOPES[level]
    who = caller(scope.areas, scope.operator)
    admitted = seeded.admitted(scope)
    unknown = await seeded.client.query(PERSON, {"s": UNKNOWN_SPID}, who)
    assert unknown == {"data": {"person": None}}
    seen = 0
    for name, registered in seeded.people.items():
        if name.startswith("crowd"):  # see the property test
            continue
        spid = registered.spid
        answers = seeded.merged.get(spid, spid)
        body = await seeded.client.query(PERSON, {"s": spid}, who)
        assert not leaks(body, seeded, scope), (name, body)
        if answers in admitted:
            assert body["data"]["person"]["spid"] == answers, name
            seen += 1
        else:
            assert same_answer(body, (spid,), unknown, (UNKNOWN_SPID,)), (name, body)
    assert seen  # every scope here admits someone, and leaves someone out


async def test_every_level_of_area_admits_exactly_its_people(seeded: Seeded) -> None:
    home, neighbour = seeded.spid("home"), seeded.spid("neighbour")
    district, province = seeded.spid("district"), seeded.spid("province")
    assert {home, neighbour, district, province} <= seeded.admitted(SCOPES["province"])
    assert {home, neighbour, district} <= seeded.admitted(SCOPES["district"])
    assert province not in seeded.admitted(SCOPES["district"])
    assert {home, neighbour} <= seeded.admitted(SCOPES["commune"])
    assert district not in seeded.admitted(SCOPES["commune"])
    assert neighbour not in seeded.admitted(SCOPES["village"])
    # nssf registered home and away, pca the neighbour
    assert {home, seeded.spid("away")} <= seeded.admitted(SCOPES["operator"])
    assert neighbour not in seeded.admitted(SCOPES["operator"])
    both = seeded.admitted(SCOPES["areas and operator"])
    assert home in both and seeded.spid("away") not in both and neighbour not in both
    for spid, expected in ((home, True), (neighbour, False), (seeded.spid("away"), False)):
        body = await seeded.client.query(
            "query($s: String!) { person(spid: $s) { spid } }",
            {"s": spid},
            caller(("01",), "nssf"),
        )
        assert (body["data"]["person"] is not None) is expected


async def test_a_merged_spid_answers_its_survivor_only_in_scope(seeded: Seeded) -> None:
    query = "query($s: String!) { person(spid: $s) { spid } }"
    unknown = await seeded.client.query(query, {"s": UNKNOWN_SPID}, AREA_01)
    # m_in lives in area 01 but was merged into s_out, who does not.
    body = await seeded.client.query(query, {"s": seeded.spid("m_in")}, AREA_01)
    assert same_answer(body, (seeded.spid("m_in"),), unknown, (UNKNOWN_SPID,))
    body = await seeded.client.query(query, {"s": seeded.spid("m_out")}, AREA_01)
    assert body == {"data": {"person": {"spid": seeded.spid("s_in")}}}
    body = await seeded.client.query(query, {"s": seeded.spid("m_in")})
    assert body == {"data": {"person": {"spid": seeded.spid("s_out")}}}


async def test_a_khmer_id_out_of_scope_answers_as_an_unknown_one(seeded: Seeded) -> None:
    query = "query($k: String!) { personByKhmerId(khmerId: $k) { spid khmerId } }"
    inside = await seeded.client.query(query, {"k": "111111111"}, AREA_01)
    assert inside["data"]["personByKhmerId"]["spid"] == seeded.spid("home")
    outside = await seeded.client.query(query, {"k": "222222222"}, AREA_01)
    unknown = await seeded.client.query(query, {"k": "333333333"}, AREA_01)
    assert unknown == {"data": {"personByKhmerId": None}}
    assert same_answer(outside, ("222222222",), unknown, ("333333333",))


async def test_a_search_finds_no_one_out_of_scope(seeded: Seeded) -> None:
    query = """query($f: String!, $g: String!) {
      searchPeople(familyName: $f, givenName: $g, birthDate: "1990") { person { spid } }
    }"""
    inside = await seeded.client.query(query, {"f": "Chhun", "g": "Sophal"}, AREA_01)
    assert inside["data"]["searchPeople"][0]["person"]["spid"] == seeded.spid("home")
    outside = await seeded.client.query(query, {"f": "Touch", "g": "Rithy"}, AREA_01)
    nobody = await seeded.client.query(query, {"f": "Xyzzy", "g": "Plugh"}, AREA_01)
    assert outside == nobody == {"data": {"searchPeople": []}}
    everyone = await seeded.client.query(query, {"f": "Touch", "g": "Rithy"})
    assert everyone["data"]["searchPeople"][0]["person"]["spid"] == seeded.spid("away")


PAGE = """query($p: String!, $first: Int!, $after: String) {
  people(provinceCode: $p, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { spid } }
  }
}"""


async def test_pages_under_a_scope_are_full_and_count_only_the_scope(seeded: Seeded) -> None:
    scope = SCOPES["areas and operator"]
    expected = sorted(seeded.admitted(scope))
    assert len(expected) > 6
    listed: list[str] = []
    after = None
    while True:
        body = await seeded.client.query(
            PAGE, {"p": "01", "first": 3, "after": after}, caller(scope.areas, scope.operator)
        )
        page = body["data"]["people"]
        assert page["totalCount"] == len(expected)
        listed += [edge["node"]["spid"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert len(page["edges"]) == 3
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]
    assert listed == expected
    # The province has more people than the caller sees.
    body = await seeded.client.query(PAGE, {"p": "01", "first": 3})
    assert body["data"]["people"]["totalCount"] > len(expected)


PEOPLE = """query($level: String!, $first: Int!, $after: String) {
  people(districtCode: $level, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { spid } }
  }
}"""
SEARCH = """{ searchPeople(familyName: "Seng", givenName: "Dara", birthDate: "1985", first: 100) {
  person { spid }
} }"""
area_codes = st.sampled_from(("01", "12", "0102", "0103", "010201", "010202", IN, NEIGHBOUR))
row_scopes = st.builds(
    RowScope,
    areas=st.none() | st.lists(area_codes, max_size=3).map(tuple),
    operator=st.none() | st.sampled_from(("nssf", "pca", "moi")),
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scope=row_scopes, first=st.integers(1, 6))
async def test_lists_hold_every_person_in_scope_and_no_one_else(
    seeded: Seeded, scope: RowScope, first: int
) -> None:
    who = caller(scope.areas, scope.operator)
    admitted = seeded.admitted(scope)
    in_district = seeded.admitted(RowScope(areas=("0102",)))
    listed: list[str] = []
    after = None
    while True:
        body = await seeded.client.query(
            PEOPLE, {"level": "0102", "first": first, "after": after}, who
        )
        page = body["data"]["people"]
        assert page["totalCount"] == len(admitted & in_district)
        listed += [edge["node"]["spid"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert len(page["edges"]) == first
        after = page["pageInfo"]["endCursor"]
    assert listed == sorted(admitted & in_district)
    found = (await seeded.client.query(SEARCH, caller=who))["data"]["searchPeople"]
    crowd = {p.spid for name, p in seeded.people.items() if name.startswith("crowd")}
    assert {hit["person"]["spid"] for hit in found} == admitted & crowd


HOUSEHOLD = """query($h: String!) { household(householdId: $h) {
  householdId villageCode headSpid members { relationship person { spid familyName } }
} }"""


async def test_a_household_shows_only_its_members_in_scope(seeded: Seeded) -> None:
    body = await seeded.client.query(HOUSEHOLD, {"h": "HH-MIXED"}, AREA_01)
    # Its head lives away: the household is in scope through its spouse only.
    assert body == {
        "data": {
            "household": {
                "householdId": "HH-MIXED",
                "villageCode": AWAY,
                "headSpid": None,
                "members": [
                    {
                        "relationship": "SPOUSE",
                        "person": {"spid": seeded.spid("home"), "familyName": "Chhun"},
                    }
                ],
            }
        }
    }
    away = await seeded.client.query(HOUSEHOLD, {"h": "HH-AWAY"}, AREA_01)
    unknown = await seeded.client.query(HOUSEHOLD, {"h": "HH-NONE"}, AREA_01)
    assert unknown == {"data": {"household": None}}
    assert same_answer(away, ("HH-AWAY",), unknown, ("HH-NONE",))
    everyone = await seeded.client.query(HOUSEHOLD, {"h": "HH-MIXED"})
    assert everyone["data"]["household"]["headSpid"] == seeded.spid("away")
    assert len(everyone["data"]["household"]["members"]) == 2


async def test_entities_out_of_scope_resolve_to_null(seeded: Seeded) -> None:
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
      ... on Person { spid household { headSpid } }
      ... on Household { householdId headSpid members { person { spid } } }
    } }"""
    representations = [
        {"__typename": "Person", "spid": seeded.spid("home")},
        {"__typename": "Person", "spid": seeded.spid("away")},
        {"__typename": "Person", "spid": UNKNOWN_SPID},
        {"__typename": "Person", "spid": seeded.spid("m_in")},
        {"__typename": "Household", "householdId": "HH-MIXED"},
        {"__typename": "Household", "householdId": "HH-AWAY"},
        {"__typename": "Household", "householdId": "HH-NONE"},
    ]
    body = await seeded.client.query(query, {"r": representations}, AREA_01)
    assert "errors" not in body
    assert body["data"]["_entities"] == [
        {"spid": seeded.spid("home"), "household": {"headSpid": None}},
        None,
        None,
        None,
        {
            "householdId": "HH-MIXED",
            "headSpid": None,
            "members": [{"person": {"spid": seeded.spid("home")}}],
        },
        None,
        None,
    ]


async def test_other_spids_out_of_scope_are_null_in_history_and_kept_in_links(
    seeded: Seeded,
) -> None:
    query = """query($s: String!) { person(spid: $s) {
      programLinks { operator registeredSpid } history { kind otherSpid }
    } }"""
    absorber = await seeded.client.query(query, {"s": seeded.spid("absorber")}, AREA_01)
    kinds = [(e["kind"], e["otherSpid"]) for e in absorber["data"]["person"]["history"]]
    assert ("absorbed", None) in kinds and ("split", None) in kinds
    everyone = await seeded.client.query(query, {"s": seeded.spid("absorber")})
    assert ("split", seeded.spid("split_off")) in [
        (e["kind"], e["otherSpid"]) for e in everyone["data"]["person"]["history"]
    ]
    # A link registered to a SPID merged into this person keeps it: that SPID answers
    # this very person for this caller too.
    s_in = await seeded.client.query(query, {"s": seeded.spid("s_in")}, AREA_01)
    assert {
        (link["operator"], link["registeredSpid"])
        for link in s_in["data"]["person"]["programLinks"]
    } == {
        ("pca", seeded.spid("s_in")),
        ("nssf", seeded.spid("m_out")),
    }
    assert ("absorbed", seeded.spid("m_out")) in [
        (e["kind"], e["otherSpid"]) for e in s_in["data"]["person"]["history"]
    ]


CASES = """{ reviewCases { nodes { id spid candidateSpid person { spid } candidate { spid } }
  pageInfo { hasNextPage } } }"""


async def test_review_cases_need_both_people_in_scope(seeded: Seeded) -> None:
    body = await seeded.client.query(CASES, caller=AREA_01)
    nodes = body["data"]["reviewCases"]["nodes"]
    assert [int(node["id"]) for node in nodes] == [
        seeded.cases["inside"],
        seeded.cases["via_merge"],
    ]
    assert nodes[1]["candidate"] == {"spid": seeded.spid("s_in")}
    assert not leaks(body, seeded, SCOPES["province"])
    everyone = await seeded.client.query(CASES)
    assert len(everyone["data"]["reviewCases"]["nodes"]) == 4
    decide = """mutation($id: ID!) {
      resolveReviewCase(caseId: $id, samePerson: false, reason: "two people") { id status }
    }"""
    hidden = await seeded.client.query(decide, {"id": str(seeded.cases["half"])}, AREA_01)
    unknown = await seeded.client.query(decide, {"id": "99999"}, AREA_01)
    assert unknown["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert same_answer(hidden, (str(seeded.cases["half"]),), unknown, ("99999",))
    decided = await seeded.client.query(decide, {"id": str(seeded.cases["inside"])}, AREA_01)
    assert decided["data"]["resolveReviewCase"]["status"] == "DIFFERENT_PEOPLE"


MERGE = """mutation($s: String!, $m: String!) {
  mergePeople(survivorSpid: $s, mergedSpid: $m, reason: "same") { spid }
}"""
UNMERGE = """mutation($s: String!) { unmergePerson(spid: $s, reason: "two") { spid } }"""


async def test_merges_naming_someone_out_of_scope_fail_as_for_an_unknown_spid(
    seeded: Seeded,
) -> None:
    home, away = seeded.spid("home"), seeded.spid("away")
    unknown = await seeded.client.query(MERGE, {"s": home, "m": UNKNOWN_SPID}, AREA_01)
    assert unknown["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "no one in the registry" in unknown["errors"][0]["message"]
    outside = await seeded.client.query(MERGE, {"s": home, "m": away}, AREA_01)
    assert same_answer(outside, (away,), unknown, (UNKNOWN_SPID,))
    as_survivor = await seeded.client.query(MERGE, {"s": away, "m": home}, AREA_01)
    unknown_survivor = await seeded.client.query(MERGE, {"s": UNKNOWN_SPID, "m": home}, AREA_01)
    assert same_answer(as_survivor, (away,), unknown_survivor, (UNKNOWN_SPID,))
    # m_in lives in area 01 but answers s_out, who does not: as unknown to unmerge.
    hidden = await seeded.client.query(UNMERGE, {"s": seeded.spid("m_in")}, AREA_01)
    unknown = await seeded.client.query(UNMERGE, {"s": UNKNOWN_SPID}, AREA_01)
    assert same_answer(hidden, (seeded.spid("m_in"),), unknown, (UNKNOWN_SPID,))
    # Nothing changed: the merged SPID still answers its survivor.
    body = await seeded.client.query(
        "query($s: String!) { person(spid: $s) { spid } }", {"s": seeded.spid("m_in")}
    )
    assert body["data"]["person"]["spid"] == seeded.spid("s_out")
    merged = await seeded.client.query(MERGE, {"s": home, "m": seeded.spid("neighbour")}, AREA_01)
    assert merged == {"data": {"mergePeople": {"spid": home}}}


async def test_a_malformed_scope_header_is_refused(seeded: Seeded) -> None:
    async with seeded.client.session.post(
        seeded.client.url + "/graphql",
        json={"query": "{ __typename }"},
        headers={"X-Tonle-Partner": "mosvy", "X-Tonle-Scope": "not json"},
    ) as response:
        assert response.status == 400
        assert "X-Tonle-Scope" in await response.text()


async def test_every_seeded_area_is_a_gazetteer_area() -> None:
    # The villages the tests rely on lie where their names say.
    from identity_store.gazetteer import area_codes

    assert area_codes(NEIGHBOUR)["commune_code"] == area_codes(IN)["commune_code"]
    assert area_codes(DISTRICT)["district_code"] == "0102"
    assert area_codes(DISTRICT)["commune_code"] != "010201"
    assert area_codes(PROVINCE)["province_code"] == "01"
    assert area_codes(PROVINCE)["district_code"] != "0102"
    assert area_codes(AWAY)["province_code"] == "12"
