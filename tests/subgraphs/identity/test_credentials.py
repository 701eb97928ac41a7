"""Who registers and who decides comes from the caller's credentials, never from the input;
a Khmer ID alone does not hand out its holder's SPID."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from sqlalchemy import func, select

from identity_store import create_engine, migrate, session_factory
from identity_store.matching import MatchModel
from identity_store.models import Person
from policies.caller import Caller
from subgraphs.identity import create_app
from tests.servers import serve
from tests.subgraphs.identity.registry import (
    AWAY,
    IN,
    UNKNOWN_SPID,
    Client,
    Seeded,
    caller,
    seeded_registry,
)

REGISTER = """mutation($input: RegistrationInput!) { registerPerson(input: $input) {
  spid decision candidateSpid reviewCaseId replayed
  person { spid khmerId status programLinks { operator } history { kind actor otherSpid } }
} }"""
SOK = {
    "programme": "health_care",
    "localId": "N-1",
    "familyName": "Sok",
    "givenName": "Dara",
    "birthDate": "1990-05-17",
    "sex": "MALE",
    "villageCode": IN,
}
NSSF = caller(partner="nssf", registers_as="nssf", end_user="clerk-7")
STAFF = caller(partner="registry", end_user="officer-3")


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[Client]:
    await migrate(database_url)
    async with serve(create_app(database_url)) as url, aiohttp.ClientSession() as session:
        yield Client(url, session)


async def register(client: Client, who: Caller | None, **fields: Any) -> dict[str, Any]:
    return await client.query(REGISTER, {"input": {**SOK, **fields}}, who)


def refused(body: dict[str, Any], code: str, text: str) -> None:
    assert body["data"] is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == code
    assert text in error["message"], error["message"]


async def people_stored(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(Person)) or 0)
    finally:
        await engine.dispose()


async def test_a_registration_is_made_as_the_operator_and_user_of_the_credentials(
    client: Client,
) -> None:
    body = await register(client, NSSF)
    outcome = body["data"]["registerPerson"]
    assert outcome["decision"] == "NEW"
    assert outcome["person"]["programLinks"] == [{"operator": "nssf"}]
    assert outcome["person"]["history"] == [
        {"kind": "registered", "actor": "clerk-7", "otherSpid": None}
    ]
    # Saying the same as the credentials is fine.
    same = await register(client, NSSF, operator="nssf", registeredBy="clerk-7", localId="N-2")
    assert same["data"]["registerPerson"]["spid"] == outcome["spid"]


async def test_another_operator_or_user_in_the_input_is_refused(
    client: Client, database_url: str
) -> None:
    refused(await register(client, NSSF, operator="pca"), "BAD_USER_INPUT", "from your credentials")
    refused(await register(client, NSSF, registeredBy="boss"), "BAD_USER_INPUT", "registeredBy")
    # No end user in the credentials: no one may be named in the input either.
    anonymous = caller(partner="nssf", registers_as="nssf")
    refused(await register(client, anonymous, registeredBy="boss"), "BAD_USER_INPUT", "credentials")
    assert await people_stored(database_url) == 0


async def test_credentials_without_an_operator_may_not_register(
    client: Client, database_url: str
) -> None:
    body = await register(client, caller(("01",)))
    refused(body, "FORBIDDEN", "may not register")
    body = await register(client, caller(("01",)), operator="nssf")
    refused(body, "FORBIDDEN", "may not register")
    assert await people_stored(database_url) == 0


async def test_a_programme_outside_the_agreement_is_forbidden(
    client: Client, database_url: str
) -> None:
    pension_only = caller(partner="nssf", registers_as="nssf", programmes=("pension",))
    refused(await register(client, pension_only), "FORBIDDEN", "pension; not 'health_care'")
    query = "mutation($i: [RegistrationInput!]!) { registerPeople(inputs: $i) { spid } }"
    body = await client.query(
        query,
        {"i": [{**SOK, "programme": "pension"}, {**SOK, "localId": "N-2"}]},
        pension_only,
    )
    refused(body, "FORBIDDEN", "registration 2: ")
    assert await people_stored(database_url) == 0
    allowed = await register(client, pension_only, programme="pension")
    assert allowed["data"]["registerPerson"]["decision"] == "NEW"


DECISIONS = """mutation($s: String!, $m: String!, $by: String) {
  mergePeople(survivorSpid: $s, mergedSpid: $m, decidedBy: $by, reason: "same") {
    spid history { kind actor }
  }
}"""


async def test_decisions_are_recorded_under_the_caller(client: Client) -> None:
    a = (await register(client, NSSF))["data"]["registerPerson"]["spid"]
    b = (await register(client, NSSF, localId="N-2", familyName="Chan", givenName="Sophea"))[
        "data"
    ]["registerPerson"]["spid"]
    body = await client.query(DECISIONS, {"s": a, "m": b, "by": "someone"}, STAFF)
    refused(body, "BAD_USER_INPUT", "decidedBy comes from your credentials (registry/officer-3)")
    body = await client.query(DECISIONS, {"s": a, "m": b}, STAFF)
    assert {"kind": "absorbed", "actor": "registry/officer-3"} in body["data"]["mergePeople"][
        "history"
    ]
    unmerge = """mutation($s: String!, $by: String) {
      unmergePerson(spid: $s, decidedBy: $by, reason: "two") { spid history { kind actor } }
    }"""
    body = await client.query(unmerge, {"s": b, "by": "registry/officer-3"}, STAFF)
    assert {"kind": "unmerged", "actor": "registry/officer-3"} in body["data"]["unmergePerson"][
        "history"
    ]


async def test_open_mode_takes_who_from_the_input_and_requires_it(client: Client) -> None:
    refused(await register(client, None), "BAD_USER_INPUT", "operator is required")
    a = (await register(client, None, operator="nssf", registeredBy="u1"))["data"]["registerPerson"]
    assert a["person"]["history"][0]["actor"] == "u1"
    b = (
        await register(
            client, None, operator="pca", localId="P-1", familyName="Chan", givenName="Sophea"
        )
    )["data"]["registerPerson"]
    body = await client.query(DECISIONS, {"s": a["spid"], "m": b["spid"]})
    refused(body, "BAD_USER_INPUT", "decidedBy is required")
    body = await client.query(DECISIONS, {"s": a["spid"], "m": b["spid"], "by": "officer-1"})
    assert {"kind": "absorbed", "actor": "officer-1"} in body["data"]["mergePeople"]["history"]


async def test_review_decisions_take_who_from_the_credentials(database_url: str) -> None:
    await migrate(database_url)
    model = dataclasses.replace(MatchModel.default(), lower=0.0, upper=1.1)
    async with (
        serve(create_app(database_url, match_model=model)) as url,
        aiohttp.ClientSession() as session,
    ):
        client = Client(url, session)
        await register(client, NSSF)
        second = await register(client, NSSF, localId="N-2", birthDate="1990")
        case = second["data"]["registerPerson"]["reviewCaseId"]
        decide = """mutation($id: ID!, $by: String) {
          resolveReviewCase(caseId: $id, samePerson: true, decidedBy: $by, reason: "same phone")
          { status resolvedBy }
        }"""
        refused(
            await client.query(decide, {"id": case, "by": "x"}, STAFF),
            "BAD_USER_INPUT",
            "decidedBy comes from your credentials",
        )
        body = await client.query(decide, {"id": case}, STAFF)
        assert body["data"]["resolveReviewCase"] == {
            "status": "SAME_PERSON",
            "resolvedBy": "registry/officer-3",
        }


MOI = caller(partner="moi", registers_as="moi")


async def test_a_khmer_id_with_agreeing_names_links_its_holder(client: Client) -> None:
    holder = (await register(client, NSSF, khmerId="123456789"))["data"]["registerPerson"]
    # Another spelling, another village: the card's names and birth date agree.
    body = await register(
        client, MOI, khmerId="123456789", localId="M-1", familyName="Sokh", villageCode=AWAY
    )
    outcome = body["data"]["registerPerson"]
    assert (outcome["decision"], outcome["spid"]) == ("KHMER_ID", holder["spid"])


async def test_a_khmer_id_with_other_names_opens_a_review_and_names_no_one(
    client: Client, database_url: str
) -> None:
    holder = (await register(client, NSSF, khmerId="123456789"))["data"]["registerPerson"]
    claim = {
        "khmerId": "123456789",
        "localId": "M-1",
        "familyName": "Chan",
        "givenName": "Vannak",
        "birthDate": "1971-02-03",
        "villageCode": IN,
    }
    body = await register(client, MOI, **claim)
    outcome = body["data"]["registerPerson"]
    assert outcome["decision"] == "REVIEW"
    assert outcome["candidateSpid"] is None
    assert outcome["person"]["khmerId"] is None
    assert outcome["person"]["status"] == "PROVISIONAL"
    assert holder["spid"] not in orjson.dumps(body).decode()
    again = await register(client, MOI, **claim)
    assert again["data"]["registerPerson"]["replayed"]
    assert holder["spid"] not in orjson.dumps(again).decode()
    # The reviewers see whom the record claimed to be.
    cases = await client.query("{ reviewCases { nodes { spid candidateSpid } } }", caller=STAFF)
    assert cases["data"]["reviewCases"]["nodes"] == [
        {"spid": outcome["spid"], "candidateSpid": holder["spid"]}
    ]
    assert await people_stored(database_url) == 2


async def test_a_registration_names_no_candidate_out_of_scope(database_url: str) -> None:
    await migrate(database_url)
    model = dataclasses.replace(MatchModel.default(), lower=0.0, upper=1.1)
    async with (
        serve(create_app(database_url, match_model=model)) as url,
        aiohttp.ClientSession() as session,
    ):
        client = Client(url, session)
        away = (await register(client, None, operator="pca", villageCode=AWAY))["data"][
            "registerPerson"
        ]
        scoped = caller(("01",), partner="nssf", registers_as="nssf")
        body = await register(client, scoped)
        outcome = body["data"]["registerPerson"]
        assert (outcome["decision"], outcome["candidateSpid"]) == ("REVIEW", None)
        assert outcome["person"]["spid"] == outcome["spid"]
        assert away["spid"] not in orjson.dumps(body).decode()
        # Registered where the caller cannot see: the SPID it got, no person.
        elsewhere = await register(client, scoped, localId="N-2", villageCode=AWAY)
        assert elsewhere["data"]["registerPerson"]["person"] is None
        unscoped = await register(client, None, operator="moi", localId="M-1")
        assert unscoped["data"]["registerPerson"]["candidateSpid"] is not None


async def test_the_operator_scope_follows_the_link_a_registration_adds(
    database_url: str,
) -> None:
    async with seeded_registry(database_url) as seeded:
        await _operator_scope_follows_links(seeded)


async def _operator_scope_follows_links(seeded: Seeded) -> None:
    query = "query($s: String!) { person(spid: $s) { spid } }"
    own = caller(operator="moi", partner="moi", registers_as="moi")
    away = seeded.spid("away")
    assert (await seeded.client.query(query, {"s": away}, own))["data"]["person"] is None
    registered = seeded.people["away"]
    await register(
        seeded.client,
        own,
        khmerId=registered.khmer_id,
        localId="M-9",
        familyName=registered.family_name,
        givenName=registered.given_name,
        birthDate=registered.birth_date.isoformat(),
        villageCode=registered.village_code,
    )
    assert (await seeded.client.query(query, {"s": away}, own))["data"]["person"] == {"spid": away}
    assert (await seeded.client.query(query, {"s": UNKNOWN_SPID}, own))["data"]["person"] is None


async def test_signed_caller_headers_carry_the_scope(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    signing = importlib.import_module("policies.signing")
    # Signing v2 (the whole request, caller headers included) is another engineer's work in
    # progress: run through it once it is there, skip (saying so) until then.
    request_signer = getattr(signing, "sign_request", None) or getattr(
        signing, "request_signer", None
    )
    if request_signer is None:
        pytest.skip("policies.signing has no sign_request/request_signer yet (signing v2)")
    secret = "s" * 32
    monkeypatch.setenv("TONLE_GATEWAY_SECRET", secret)
    async with seeded_registry(database_url) as seeded:
        sign = request_signer(secret, "identity")
        query = "query($s: String!) { person(spid: $s) { spid } }"
        who = caller(("01",))
        for name, expected in (("home", True), ("away", False)):
            body = orjson.dumps({"query": query, "variables": {"s": seeded.spid(name)}})
            headers = {"Content-Type": "application/json", **who.headers()}
            headers |= sign("POST", "/graphql", body, headers)
            async with seeded.client.session.post(
                seeded.client.url + "/graphql", data=body, headers=headers
            ) as response:
                assert response.status == 200, await response.text()
                found = (await response.json())["data"]["person"]
            assert (found is not None) is expected
        # Without the signature the same caller headers count for nothing.
        unsigned = await seeded.client.query(query, {"s": seeded.spid("away")}, who)
        assert unsigned["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
