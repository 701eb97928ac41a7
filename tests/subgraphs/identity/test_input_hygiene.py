"""The identity subgraph over HTTP: every argument error is BAD_USER_INPUT at its own path, in
the registry's words, and no refused character reaches SQL (PostgreSQL refuses NUL with an
error of its own, which used to come back as INTERNAL_SERVER_ERROR)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from identity_store import migrate
from subgraphs.identity import create_app
from tests.servers import serve
from tests.subgraphs.identity.test_registry_api import REGISTER, SOK, Registry

PYTHON_WORDS = re.compile(
    r"invalid literal|out of range|isoformat|object has no attribute|argument|"
    r"Traceback|\.py\"|sqlite3|asyncpg|SELECT|INSERT",
    re.IGNORECASE,
)


@pytest.fixture
async def registry(database_url: str) -> AsyncIterator[Registry]:
    await migrate(database_url)
    async with serve(create_app(database_url)) as url, aiohttp.ClientSession() as session:
        yield Registry(url, database_url, session)


def refusals(body: dict[str, Any]) -> list[tuple[str, list[Any] | None, str]]:
    """(code, path, message) of each error; none repeats Python's or the database's words."""
    out = []
    for error in body["errors"]:
        assert not PYTHON_WORDS.search(error["message"].replace("arguments", "")), error
        out.append((error["extensions"]["code"], error.get("path"), error["message"]))
    return out


async def test_a_nul_in_a_lookup_is_bad_input_at_its_field_not_a_database_error(
    registry: Registry,
) -> None:
    body = await registry.query(
        "query($h: String!) { household(householdId: $h) { householdId } same: household("
        'householdId: "HH-1") { householdId } }',
        {"h": "HH\x00-1"},
    )
    [(code, path, message)] = refusals(body)
    assert (code, path) == ("BAD_USER_INPUT", ["household"])
    assert message.startswith("householdId: character 3 is a control character (U+0000)")
    assert body["data"] == {"household": None, "same": None}


async def test_each_bad_argument_is_its_own_error_with_its_own_path(registry: Registry) -> None:
    body = await registry.query(
        "query($a: String!, $b: String!) {"
        " a: person(spid: $a) { spid } b: personByKhmerId(khmerId: $b) { spid }"
        ' c: person(spid: "12") { spid } d: personByKhmerId(khmerId: "១២៣៤៥៦៧៨៩") { spid } }',
        {"a": "1234\u202e5678901", "b": "\ud7ff\x07"},
    )
    found = {path[0]: (code, message) for code, path, message in refusals(body)}
    assert set(found) == {"a", "b", "c"}  # Khmer digits are digits: d is no one, not an error
    assert {code for code, _ in found.values()} == {"BAD_USER_INPUT"}
    assert found["a"][1].startswith("spid: character 5 is a bidirectional control")
    assert found["b"][1].startswith("khmerId: character 2 is a control character (U+0007)")
    assert "a SPID is 12 digits" in found["c"][1]
    assert body["data"] == {"a": None, "b": None, "c": None, "d": None}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ('familyName: "So\\u202ek", givenName: "Dara"', "familyName: character 3 is a bidi"),
        ('familyName: "Sok", givenName: "\\u0007"', "givenName: character 1 is a control"),
        ('familyName: "Sok", givenName: "\\u200b"', "give both a family name and a given"),
        ('familyName: "Sok", givenName: "Dara", birthDate: "0001-01-01"', "is before 1900"),
        ('familyName: "Sok", givenName: "Dara", birthDate: "1990-02-30"', "February 1990 has 28"),
        ('familyName: "Sok", givenName: "Dara", birthDate: "2990"', "is in the future"),
    ],
)
async def test_a_search_with_a_bad_argument_is_refused_at_its_path(
    registry: Registry, arguments: str, message: str
) -> None:
    body = await registry.query(f"{{ found: searchPeople({arguments}) {{ score }} }}")
    [(code, path, said)] = refusals(body)
    assert (code, path) == ("BAD_USER_INPUT", ["found"])
    assert message in said


async def test_a_registration_names_the_input_field_and_stores_nothing(registry: Registry) -> None:
    body = await registry.query(
        "mutation($inputs: [RegistrationInput!]!) { registerPeople(inputs: $inputs) { spid } }",
        {"inputs": [SOK, {**SOK, "localId": "N-2", "givenNameKm": "ដា\u2066រ៉ា"}]},
    )
    [(code, path, message)] = refusals(body)
    assert (code, path) == ("BAD_USER_INPUT", ["registerPeople"])
    assert message.startswith("inputs[1].givenNameKm: character 3 is a bidirectional control")
    body = await registry.query(REGISTER, {"input": {**SOK, "birthDate": "0001-01-01"}})
    [(code, path, message)] = refusals(body)
    assert (code, path) == ("BAD_USER_INPUT", ["registerPerson"])
    assert "before 1900" in message
    assert await registry.stored() == (0, 0, 0, 0)


async def test_a_registration_stores_a_khmer_name_with_its_word_break_and_no_stray_marks(
    registry: Registry,
) -> None:
    outcome = await registry.register(
        familyName="\ufeffSok ", givenName="Da\u200bra", givenNameKm="ស្រី\u200bមុំ\u200b"
    )
    body = await registry.query(
        "query($s: String!) { person(spid: $s) { familyName givenName givenNameKm } }",
        {"s": outcome["spid"]},
    )
    assert body["data"]["person"] == {
        "familyName": "Sok",
        "givenName": "Dara",
        "givenNameKm": "ស្រី\u200bមុំ",
    }


async def test_dates_and_ids_of_the_wrong_form_are_refused_in_our_words(registry: Registry) -> None:
    body = await registry.query(
        'query($s: DateTime) { accessesTo(spid: "123456789012", since: $s) { spid } }',
        {"s": "yesterday"},
    )
    [(code, path, message)] = refusals(body)
    assert (code, path) == ("BAD_USER_INPUT", None)  # a variable belongs to no field
    assert "'yesterday' is not a date and time: write an ISO 8601 date and time" in message
    body = await registry.query(REGISTER, {"input": {**SOK, "since": "2024-02-30"}})
    [(code, path, message)] = refusals(body)
    assert code == "BAD_USER_INPUT" and "'2024-02-30' has day 30" in message
    for case_id in ("99999999999999999999999", "\u0663", "-1", " 3"):
        body = await registry.query(
            'mutation($c: ID!) { resolveReviewCase(caseId: $c, samePerson: true, decidedBy: "a",'
            ' reason: "r") { id } }',
            {"c": case_id},
        )
        [(code, path, message)] = refusals(body)
        assert (code, path) == ("BAD_USER_INPUT", ["resolveReviewCase"])
        assert message.startswith("a review case ID is a number")


async def test_parse_validation_and_variable_errors_carry_their_codes(registry: Registry) -> None:
    cases = {
        "{ person(spid: ": ({}, "GRAPHQL_PARSE_FAILED"),
        "{ nobody { spid } }": ({}, "GRAPHQL_VALIDATION_FAILED"),
        "{ person(spid: 12) { spid } }": ({}, "GRAPHQL_VALIDATION_FAILED"),
        "query($s: String!) { person(spid: $s) { spid } }": ({"s": 12}, "BAD_USER_INPUT"),
        "query($n: Int!) { reviewCases(first: $n) { nodes { id } } }": (
            {"n": 2**40},
            "BAD_USER_INPUT",
        ),
    }
    for query, (variables, expected) in cases.items():
        body = await registry.query(query, variables)
        assert [code for code, _, _ in refusals(body)] == [expected], (query, body)


async def test_malformed_representations_are_refused_one_by_one(registry: Registry) -> None:
    spid = (await registry.register())["spid"]
    representations: list[Any] = [
        {"__typename": "Person", "spid": spid},
        {"spid": spid},
        {"__typename": "Nobody", "spid": spid},
        {"__typename": "Person"},
        {"__typename": "Person", "spid": spid, "khmerId": "1"},
        {"__typename": "Person", "spid": {"nested": spid}},
        {"__typename": "Person", "spid": 5},
        {"__typename": "Household", "householdId": "HH\x00"},
        "Person",
    ]
    body = await registry.query(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { spid } } }",
        {"r": representations},
    )
    assert body["data"]["_entities"] == [{"spid": spid}, *[None] * 8]
    found = {path[1]: message for code, path, message in refusals(body) if code == "BAD_USER_INPUT"}
    assert sorted(found) == list(range(1, 9))
    assert "has no __typename" in found[1]
    assert "no entity type 'Nobody'" in found[2]
    assert "lacks spid" in found[3]
    assert "does not take: khmerId" in found[4]
    assert "spid must be a string, a number or null" in found[5]
    assert "a SPID is a string of 12 digits" in found[6]
    assert "householdId: character 3 is a control character" in found[7]
    assert "is not an object" in found[8]
