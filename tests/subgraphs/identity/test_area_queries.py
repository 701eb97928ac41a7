"""People and households by any level of the gazetteer, over HTTP, on both backends.

Every level (province, district, commune, village) lists exactly its people or households
in a stable cursor order, pages of any size add up to the whole list, ``totalCount``
counts it, and a caller with a row scope sees only what its scope admits: a household
is there when one of its members is in scope, with the head hidden when the head is not.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from identity_store import (
    NewHousehold,
    NewPerson,
    add_households,
    add_people,
    create_engine,
    migrate,
    session_factory,
)
from identity_store.gazetteer import area_codes
from policies.caller import Caller, RowScope
from subgraphs.identity import create_app
from tests.identity_store.people import person
from tests.servers import serve

# 02140408 lies in commune 021405 although its code starts with 021404 (the gazetteer wins)
VILLAGES = ("01020101", "01020102", "01020201", "01030101", "12010101", "02140408")
LEVELS = {"province": "provinceCode", "district": "districtCode", "commune": "communeCode"}


@dataclass
class Area:
    client: aiohttp.ClientSession
    url: str
    people: dict[str, NewPerson]  # by SPID
    households: dict[str, tuple[str, list[tuple[str, str]]]]  # id -> (village, members)

    async def ask(self, query: str, variables: dict[str, Any], caller: Caller | None = None) -> Any:
        headers = caller.headers() if caller is not None else {}
        body = {"query": query, "variables": variables}
        async with self.client.post(self.url, json=body, headers=headers) as response:
            return await response.json()


def codes_of(village: str) -> dict[str, str]:
    """The area codes a village lies in, by argument name."""
    codes = area_codes(village)
    return {
        "villageCode": village,
        "communeCode": codes["commune_code"],
        "districtCode": codes["district_code"],
        "provinceCode": codes["province_code"],
    }


@pytest.fixture
async def area(database_url: str) -> AsyncIterator[Area]:
    await migrate(database_url)
    rng = random.Random(12)
    people: dict[str, NewPerson] = {}
    households: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for n in range(30):
        village = VILLAGES[n % len(VILLAGES)]
        members = [person(rng, village_code=village) for _ in range(1 + n % 3)]
        people.update({p.spid: p for p in members})
        roles = ["head", "spouse", "child"]
        households[f"HH{n:03d}"] = (village, [(p.spid, roles[i]) for i, p in enumerate(members)])
    # A household whose head lives away from its village (and from the scope below).
    away = person(rng, village_code="12010101")
    home = person(rng, village_code="01020101")
    people.update({away.spid: away, home.spid: home})
    households["HH-SPLIT"] = ("12010101", [(away.spid, "head"), (home.spid, "spouse")])
    engine = create_engine(database_url)
    try:
        sessions = session_factory(engine)
        await add_people(sessions, people.values())
        await add_households(
            sessions, [NewHousehold(hid, v, members) for hid, (v, members) in households.items()]
        )
    finally:
        await engine.dispose()
    async with serve(create_app(database_url)) as url, aiohttp.ClientSession() as client:
        yield Area(client, url + "/graphql", people, households)


PEOPLE = """query($a: String, $first: Int!, $after: String) {
  people(%s: $a, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { spid villageCode } }
  }
}"""
HOUSEHOLDS = """query($a: String, $first: Int!, $after: String) {
  households(%s: $a, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { householdId villageCode headSpid members { person { spid } } } }
  }
}"""


async def every_page(
    area: Area, query: str, field: str, code: str, first: int, caller: Caller | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Every node of the list, page by page; and the totalCount each page gave (the same)."""
    nodes: list[dict[str, Any]] = []
    totals = set()
    after = None
    while True:
        body = await area.ask(query, {"a": code, "first": first, "after": after}, caller)
        page = body["data"][field]
        totals.add(page["totalCount"])
        nodes += [edge["node"] for edge in page["edges"]]
        if page["edges"]:
            assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert len(page["edges"]) == first
        after = page["pageInfo"]["endCursor"]
    assert len(totals) == 1, totals
    return nodes, totals.pop()


@pytest.mark.parametrize("argument", ["villageCode", *LEVELS.values()])
async def test_every_level_lists_its_people_and_households_in_cursor_order(
    area: Area, argument: str
) -> None:
    for village in VILLAGES:
        code = codes_of(village)[argument]
        people = sorted(
            s for s, p in area.people.items() if codes_of(p.village_code)[argument] == code
        )
        households = sorted(
            h for h, (v, _) in area.households.items() if codes_of(v)[argument] == code
        )
        for first in (3, 10_000):
            nodes, total = await every_page(area, PEOPLE % argument, "people", code, first)
            assert [n["spid"] for n in nodes] == people
            assert total == len(people)
            nodes, total = await every_page(area, HOUSEHOLDS % argument, "households", code, first)
            assert [n["householdId"] for n in nodes] == households
            assert total == len(households)
            for node in nodes:
                village_of, members = area.households[node["householdId"]]
                assert node["villageCode"] == village_of
                assert node["headSpid"] == members[0][0]


async def test_the_gazetteer_decides_the_commune_not_the_code(area: Area) -> None:
    listed = await area.ask(HOUSEHOLDS % "communeCode", {"a": "021405", "first": 100})
    villages = {e["node"]["villageCode"] for e in listed["data"]["households"]["edges"]}
    assert villages == {"02140408"}
    other = await area.ask(HOUSEHOLDS % "communeCode", {"a": "021404", "first": 100})
    assert other["data"]["households"]["edges"] == []


async def test_a_cursor_gives_the_same_next_page_every_time(area: Area) -> None:
    first = await area.ask(HOUSEHOLDS % "provinceCode", {"a": "01", "first": 3})
    after = first["data"]["households"]["pageInfo"]["endCursor"]
    again = [
        await area.ask(HOUSEHOLDS % "provinceCode", {"a": "01", "first": 3, "after": after})
        for _ in range(2)
    ]
    assert again[0] == again[1]
    assert (
        again[0]["data"]["households"]["edges"][0]["node"]["householdId"]
        > (first["data"]["households"]["edges"][-1]["node"]["householdId"])
    )


@pytest.mark.parametrize(
    "scope",
    [RowScope(areas=("01",)), RowScope(areas=("0102", "12")), RowScope(areas=("01020101",))],
    ids=str,
)
async def test_a_scoped_caller_sees_only_households_with_a_member_in_scope(
    area: Area, scope: RowScope
) -> None:
    who = Caller(partner="ngo", purpose="eligibility_check", scope=scope)
    assert scope.areas is not None

    def admitted(spid: str) -> bool:
        codes = codes_of(area.people[spid].village_code).values()
        return any(a in codes for a in scope.areas or ())

    for province in ("01", "12", "02"):
        expected = {
            hid: members
            for hid, (village, members) in area.households.items()
            if village.startswith(province) and any(admitted(spid) for spid, _ in members)
        }
        nodes, total = await every_page(
            area, HOUSEHOLDS % "provinceCode", "households", province, 2, who
        )
        assert [n["householdId"] for n in nodes] == sorted(expected)
        assert total == len(expected)
        for node in nodes:
            members = expected[node["householdId"]]
            head = members[0][0]
            assert node["headSpid"] == (head if admitted(head) else None)
            shown = [m["person"]["spid"] for m in node["members"]]
            assert sorted(shown) == sorted(spid for spid, _ in members if admitted(spid))
        people, total = await every_page(area, PEOPLE % "provinceCode", "people", province, 3, who)
        in_province = sorted(
            s for s, p in area.people.items() if p.village_code.startswith(province) and admitted(s)
        )
        assert [n["spid"] for n in people] == in_province
        assert total == len(in_province)
    # The split household is in province 12; a caller of province 01 sees it through the spouse.
    if scope.areas == ("01",):
        split = await area.ask(HOUSEHOLDS % "villageCode", {"a": "12010101", "first": 50}, who)
        ids = [e["node"]["householdId"] for e in split["data"]["households"]["edges"]]
        assert ids == ["HH-SPLIT"]


@pytest.mark.parametrize(
    ("variables", "says"),
    [
        ({"v": "99999999"}, "not in the gazetteer"),
        ({"c": "0102"}, "a commune code is 6 digits"),
        ({"v": "01020101", "p": "01"}, "give exactly one of"),
        ({}, "give exactly one of"),
    ],
)
async def test_a_wrong_area_is_refused_saying_why(
    area: Area, variables: dict[str, str], says: str
) -> None:
    query = """query($v: String, $c: String, $p: String) {
      households(villageCode: $v, communeCode: $c, provinceCode: $p) { totalCount } }"""
    body = await area.ask(query, variables)
    (error,) = body["errors"]
    assert says in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_registry_of_0005_gets_its_households_areas(database_url: str) -> None:
    await migrate(database_url, "0005")
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            for n, village in enumerate(VILLAGES):
                await connection.execute(
                    text(
                        "INSERT INTO household (household_id, village_code, head_spid, created_at) "
                        "VALUES (:h, :v, NULL, :at)"
                    ),
                    {"h": f"OLD{n}", "v": village, "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
                )
        await migrate(database_url)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT village_code, commune_code, district_code, province_code "
                        "FROM household ORDER BY household_id"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    for village, commune, district, province in rows:
        assert {"commune_code": commune, "district_code": district, "province_code": province} == (
            area_codes(village)
        )
    assert len(rows) == len(VILLAGES)
