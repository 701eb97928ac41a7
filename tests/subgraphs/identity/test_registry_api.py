"""The identity subgraph's registry API over HTTP: registration, review, merges, search."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from identity_store import (
    NewHousehold,
    add_households,
    add_people,
    create_engine,
    migrate,
    session_factory,
)
from identity_store.matching import MatchModel
from identity_store.models import Person, ProgramLink, RegistrationEvent, RegistrationRequest
from subgraphs.identity import create_app
from subgraphs.identity.mutation import MAX_REGISTRATIONS
from tests.identity_store.people import OTHER_VILLAGE, VILLAGE, person
from tests.servers import serve

REGISTER = """
mutation($input: RegistrationInput!) {
  registerPerson(input: $input) {
    spid decision probability replayed candidateSpid reviewCaseId
    reasons { comparison level weight }
    person { spid familyName birthDateAsKnown birthDatePrecision status }
  }
}
"""

SOK = {
    "operator": "nssf",
    "programme": "health_care",
    "localId": "N-1",
    "familyName": "Sok",
    "givenName": "Dara",
    "birthDate": "1990-05-17",
    "sex": "MALE",
    "villageCode": VILLAGE,
    "phone": "+855 12 345 678",
}


@dataclass
class Registry:
    url: str
    database_url: str
    session: aiohttp.ClientSession

    async def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self.session.post(
            self.url + "/graphql", json={"query": query, "variables": variables or {}}
        ) as response:
            return await response.json()  # type: ignore[no-any-return]

    async def register(self, **overrides: Any) -> dict[str, Any]:
        body = await self.query(REGISTER, {"input": {**SOK, **overrides}})
        assert "errors" not in body, body
        return body["data"]["registerPerson"]  # type: ignore[no-any-return]

    async def stored(self) -> tuple[int, ...]:
        engine = create_engine(self.database_url)
        try:
            counts = []
            async with session_factory(engine)() as session:
                for table in (Person, ProgramLink, RegistrationRequest, RegistrationEvent):
                    counts.append(
                        int(await session.scalar(select(func.count()).select_from(table)) or 0)
                    )
            return tuple(counts)
        finally:
            await engine.dispose()


@pytest.fixture
async def registry(database_url: str) -> AsyncIterator[Registry]:
    await migrate(database_url)
    async with serve(create_app(database_url)) as url, aiohttp.ClientSession() as session:
        yield Registry(url, database_url, session)


async def test_registering_twice_with_a_variant_links_one_spid(registry: Registry) -> None:
    first = await registry.register()
    assert first["decision"] == "NEW"
    assert first["person"]["birthDatePrecision"] == "DAY"
    variant = await registry.register(operator="moi", localId="M-1", familyName="Sokh")
    assert (variant["decision"], variant["spid"]) == ("MATCH", first["spid"])
    assert variant["probability"] > 0.9
    assert any(r["comparison"] == "given_name" for r in variant["reasons"])
    again = await registry.register(operator="moi", localId="M-1", familyName="Sokh")
    assert again["replayed"] and again["spid"] == first["spid"]
    assert (await registry.stored())[:3] == (1, 2, 2)


async def test_a_year_only_birth_date_is_kept_as_known(registry: Registry) -> None:
    result = await registry.register(birthDate="1990")
    assert result["person"]["birthDateAsKnown"] == "1990"
    assert result["person"]["birthDatePrecision"] == "YEAR"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"khmerId": "123456789", "birthDate": f"{dt.date.today().year - 10}-01-01"},
            "only from age 15",
        ),
        ({"villageCode": "99999999"}, "not in the gazetteer"),
        ({"birthDate": "17/05/1990"}, "YYYY-MM-DD"),
        ({"birthDate": "1990-02-30"}, "February 1990 has 28 days"),
        ({"phone": "12"}, "phone number"),
    ],
)
async def test_bad_registrations_are_bad_user_input_and_store_nothing(
    registry: Registry, overrides: dict[str, Any], message: str
) -> None:
    body = await registry.query(REGISTER, {"input": {**SOK, **overrides}})
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in error["message"]
    assert await registry.stored() == (0, 0, 0, 0)


async def test_a_bad_record_refuses_the_whole_list_naming_it(registry: Registry) -> None:
    query = "mutation($i: [RegistrationInput!]!) { registerPeople(inputs: $i) { spid } }"
    body = await registry.query(
        query, {"i": [SOK, {**SOK, "localId": "N-2", "villageCode": "0102"}]}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["message"].startswith("registration 2: ")
    too_many = [{**SOK, "localId": f"N-{i}"} for i in range(MAX_REGISTRATIONS + 1)]
    body = await registry.query(query, {"i": too_many})
    assert "Split a larger backlog" in body["errors"][0]["message"]
    assert await registry.stored() == (0, 0, 0, 0)


async def test_a_list_matches_later_records_against_earlier_ones(registry: Registry) -> None:
    query = """mutation($i: [RegistrationInput!]!) {
      registerPeople(inputs: $i) { spid decision }
    }"""
    swapped = {**SOK, "localId": "N-2", "familyName": "Dara", "givenName": "Sok"}
    body = await registry.query(query, {"i": [SOK, swapped]})
    first, second = body["data"]["registerPeople"]
    assert (first["decision"], second["decision"]) == ("NEW", "MATCH")
    assert first["spid"] == second["spid"]


async def test_a_merged_spid_resolves_to_the_survivor_in_queries_and_entities(
    registry: Registry,
) -> None:
    a = await registry.register()
    b = await registry.register(
        operator="pca",
        localId="P-1",
        familyName="Chan",
        givenName="Sophea",
        sex="FEMALE",
        birthDate="1971-02-03",
        villageCode=OTHER_VILLAGE,
        phone=None,
    )
    merge = """mutation($s: String!, $m: String!) {
      mergePeople(survivorSpid: $s, mergedSpid: $m, decidedBy: "officer-1", reason: "same") {
        spid programLinks { operator registeredSpid }
      }
    }"""
    body = await registry.query(merge, {"s": a["spid"], "m": b["spid"]})
    links = body["data"]["mergePeople"]["programLinks"]
    assert {(link["operator"], link["registeredSpid"]) for link in links} == {
        ("nssf", a["spid"]),
        ("pca", b["spid"]),
    }
    body = await registry.query(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { spid } } }",
        {"r": [{"__typename": "Person", "spid": b["spid"]}]},
    )
    assert body["data"]["_entities"] == [{"spid": a["spid"]}]
    body = await registry.query(
        "query($s: String!) { person(spid: $s) { spid history { kind actor otherSpid } } }",
        {"s": b["spid"]},
    )
    assert body["data"]["person"]["spid"] == a["spid"]
    assert {"kind": "absorbed", "actor": "officer-1", "otherSpid": b["spid"]} in body["data"][
        "person"
    ]["history"]
    unmerge = """mutation($s: String!) {
      unmergePerson(spid: $s, decidedBy: "officer-2", reason: "two people") { spid status }
    }"""
    body = await registry.query(unmerge, {"s": b["spid"]})
    assert body["data"]["unmergePerson"] == {"spid": b["spid"], "status": "ACTIVE"}


async def test_a_wrong_check_digit_in_a_merge_is_bad_user_input(registry: Registry) -> None:
    a = await registry.register()
    wrong = a["spid"][:-1] + str((int(a["spid"][-1]) + 1) % 10)
    body = await registry.query(
        """mutation($s: String!, $m: String!) {
          mergePeople(survivorSpid: $s, mergedSpid: $m, decidedBy: "o", reason: "r") { spid }
        }""",
        {"s": a["spid"], "m": wrong},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "check digit" in body["errors"][0]["message"]
    assert await registry.stored() == (1, 1, 1, 1)


async def test_review_cases_are_listed_and_resolved(database_url: str) -> None:
    await migrate(database_url)
    # Thresholds that send any candidate to review: the decision path, whatever the model.
    model = dataclasses.replace(MatchModel.default(), lower=0.0, upper=1.1)
    async with (
        serve(create_app(database_url, match_model=model)) as url,
        aiohttp.ClientSession() as session,
    ):
        await _review_flow(Registry(url, database_url, session))


async def _review_flow(registry: Registry) -> None:
    a = await registry.register()
    b = await registry.register(operator="pca", localId="P-1", birthDate="1990")
    assert (b["decision"], b["candidateSpid"], b["person"]["status"]) == (
        "REVIEW",
        a["spid"],
        "PROVISIONAL",
    )
    body = await registry.query(
        "{ reviewCases { nodes { id spid candidateSpid probability reasons { comparison } "
        "candidate { spid } } pageInfo { hasNextPage } } }"
    )
    (case,) = body["data"]["reviewCases"]["nodes"]
    assert (case["id"], case["spid"], case["candidate"]["spid"]) == (
        b["reviewCaseId"],
        b["spid"],
        a["spid"],
    )
    body = await registry.query(
        """mutation($id: ID!) {
          resolveReviewCase(caseId: $id, samePerson: true, decidedBy: "officer-9",
                            reason: "same phone") { status resolvedBy person { spid } }
        }""",
        {"id": case["id"]},
    )
    assert body["data"]["resolveReviewCase"] == {
        "status": "SAME_PERSON",
        "resolvedBy": "officer-9",
        "person": {"spid": a["spid"]},
    }


async def test_search_by_khmer_names_without_a_birth_date(registry: Registry) -> None:
    rng = random.Random(32)
    target = person(
        rng, family_name="Chhun", given_name="Sophal", family_name_km="ឈុន",
        given_name_km="សុផល", birth_date=dt.date(1962, 7, 1),
    )  # fmt: skip
    engine = create_engine(registry.database_url)
    await add_people(session_factory(engine), [target, person(rng, family_name_km="ឈុន")])
    await engine.dispose()
    body = await registry.query(
        '{ searchPeople(familyName: "សុផល", givenName: "ឈុន") { score birthDateScore person { spid } } }'
    )
    assert body == {
        "data": {
            "searchPeople": [
                {"score": 1.0, "birthDateScore": None, "person": {"spid": target.spid}}
            ]
        }
    }


async def test_search_by_name_khmer_id_and_area(registry: Registry) -> None:
    rng = random.Random(31)
    target = person(rng, family_name="Chhun", given_name="Sophal", khmer_id="123456789")
    others = [person(rng, family_name="Keo", given_name=f"Bopha{i}") for i in range(4)]
    engine = create_engine(registry.database_url)
    await add_people(session_factory(engine), [target, *others])
    await engine.dispose()
    body = await registry.query(
        """{ searchPeople(familyName: "Sophal", givenName: "Chun", birthDate: "1990-05") {
          score nameScore birthDateScore person { spid }
        } }"""
    )
    hits = body["data"]["searchPeople"]
    assert hits[0]["person"]["spid"] == target.spid
    assert 0 < hits[0]["score"] <= 1
    body = await registry.query('{ personByKhmerId(khmerId: "123456789") { spid } }')
    assert body["data"]["personByKhmerId"] == {"spid": target.spid}
    body = await registry.query('{ personByKhmerId(khmerId: "12") { spid } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    query = """query($c: String!, $after: String) {
      people(communeCode: $c, first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { spid } }
      }
    }"""
    seen: list[str] = []
    after = None
    while True:
        page = (await registry.query(query, {"c": VILLAGE[:6], "after": after}))["data"]["people"]
        assert page["totalCount"] == 5
        seen.extend(edge["node"]["spid"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(p.spid for p in [target, *others])
    body = await registry.query(
        '{ people(communeCode: "010201", provinceCode: "01") { totalCount } }'
    )
    assert "exactly one of" in body["errors"][0]["message"]


async def test_a_household_with_members_address_and_entities(registry: Registry) -> None:
    rng = random.Random(32)
    head, child = person(rng), person(rng, given_name="Thida", sex="female")
    engine = create_engine(registry.database_url)
    sessions = session_factory(engine)
    await add_people(sessions, [head, child])
    await add_households(
        sessions,
        [NewHousehold("HH01020101000001", VILLAGE, [(head.spid, "head"), (child.spid, "child")])],
    )
    await engine.dispose()
    body = await registry.query(
        """query($s: String!) { person(spid: $s) {
          relationshipToHead
          address { village { nameEn } commune { code nameKm } province { nameEn } }
          household { householdId members { relationship person { spid } } }
        } }""",
        {"s": child.spid},
    )
    found = body["data"]["person"]
    assert found["relationshipToHead"] == "CHILD"
    assert found["address"]["province"] == {"nameEn": "Banteay Meanchey"}
    assert found["address"]["village"] == {"nameEn": "Ou Thum"}
    assert found["household"]["members"] == [
        {"relationship": "HEAD", "person": {"spid": head.spid}},
        {"relationship": "CHILD", "person": {"spid": child.spid}},
    ]
    body = await registry.query(
        """query($r: [_Any!]!) { _entities(representations: $r) {
          ... on Household { householdId headSpid members { person { spid } } }
        } }""",
        {"r": [{"__typename": "Household", "householdId": "HH01020101000001"}]},
    )
    assert body["data"]["_entities"][0]["headSpid"] == head.spid


async def test_the_sdl_declares_person_and_household_entities(registry: Registry) -> None:
    sdl = (await registry.query("{ _service { sdl } }"))["data"]["_service"]["sdl"]
    assert 'type Person @key(fields: "spid")' in sdl
    assert 'type Household @key(fields: "householdId")' in sdl
