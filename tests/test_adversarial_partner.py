"""The adversarial suite: what a partner with a valid key tries beyond its agreement.

Each test is one attempt, made through the real gateway and subgraphs; each must fail the
way a request for something that does not exist fails, and leave no trace of what is
hidden. Direct calls to subgraphs with forged, replayed, stale or re-targeted signatures
are in tests/subgraphs/test_gateway_trust.py; the ones here use no signature at all.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from policies.document import read_stored
from policies.repository import add_version, publish, published
from tests.policy_stack import PolicyStack, Reply, policy_stack

HIDDEN_FOR_NGO = ("nssf", "phone", "history", "pcaPayments", "khmerIdVerification")


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[PolicyStack]:
    registry = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with policy_stack(registry, tmp_path) as running:
        yield running


def person_in(stack: PolicyStack, provinces: tuple[str, ...], *, khmer_id: bool = True) -> Any:
    return next(
        p
        for p in stack.population.people
        if p.village_code[:2] in provinces and (p.khmer_id or not khmer_id)
    )


def person_out(stack: PolicyStack, provinces: tuple[str, ...]) -> Any:
    return next(
        p for p in stack.population.people if p.village_code[:2] not in provinces and p.khmer_id
    )


def validation_failed(reply: Reply) -> bool:
    return "data" not in reply.body and set(reply.codes) == {"GRAPHQL_VALIDATION_FAILED"}


async def scope_idpoor_to(stack: PolicyStack, province: str) -> None:
    """Publish the demo policy with IDPoor's rows cut to one province; wait for it."""
    current = await published(stack.sessions)
    assert current is not None
    data = current.document.to_json()
    agreement = next(a for a in data["agreements"] if a["partner"] == "idpoor")
    agreement["scope"] = {"areas": [province], "own_registrations": False}
    number = await add_version(stack.sessions, read_stored(data), created_by="t", reason="t")
    await publish(stack.sessions, number, by="t", reason="t")
    await stack.access.store.refresh()
    assert stack.access.store.state.version == number


# -- aliases, fragments, __typename --------------------------------------------------------


async def test_aliases_neither_reveal_hidden_fields_nor_escape_masks(stack: PolicyStack) -> None:
    person = person_in(stack, ("12", "21"))
    reply = await stack.ask(
        "ngo-cash",
        "query A($s: String!) { person(spid: $s) { a: khmerId b: khmerId khmerId: familyName } }",
        {"s": person.spid},
    )
    assert reply.data == {
        "person": {
            "a": "*****" + person.khmer_id[-4:],
            "b": "*****" + person.khmer_id[-4:],
            "khmerId": person.family_name,  # the alias names the key, not the field
        }
    }
    for field in HIDDEN_FOR_NGO:
        hidden = await stack.ask(
            "ngo-cash", f'{{ person(spid: "{person.spid}") {{ innocent: {field} }} }}'
        )
        assert validation_failed(hidden), field


async def test_fragments_cannot_reach_hidden_fields_or_types(stack: PolicyStack) -> None:
    spid = person_in(stack, ("12", "21")).spid
    attempts = [
        f'{{ person(spid: "{spid}") {{ ...F }} }} fragment F on Person {{ phone }}',
        f'{{ person(spid: "{spid}") {{ ... on Person {{ nssf {{ active }} }} }} }}',
        f'{{ person(spid: "{spid}") {{ idpoor {{ ... on NssfMembership {{ active }} }} }} }}',
        f'{{ person(spid: "{spid}") {{ ...G }} }} fragment G on NssfMembership {{ memberId }}',
    ]
    for query in attempts:
        reply = await stack.ask("ngo-cash", query)
        assert validation_failed(reply), query
        assert not any("memberId" in m or "NssfMembership." in m for m in reply.messages)


async def test_typename_answers_only_visible_types(stack: PolicyStack) -> None:
    spid = person_in(stack, ("12", "21")).spid
    reply = await stack.ask(
        "ngo-cash",
        f'{{ __typename person(spid: "{spid}") {{ __typename idpoor {{ __typename }} }} }}',
    )
    assert reply.data["__typename"] == "Query"
    assert reply.data["person"]["__typename"] == "Person"


# -- introspection ---------------------------------------------------------------------------


async def test_introspection_knows_no_hidden_type_field_or_argument(stack: PolicyStack) -> None:
    reply = await stack.ask(
        "ngo-cash",
        """{
          __schema { types { name } mutationType { name } }
          nssf: __type(name: "NssfMembership") { name }
          pay: __type(name: "CertifiedPayment") { name }
          review: __type(name: "ReviewCase") { name }
          query: __type(name: "Query") { fields { name args { name } } }
        }""",
    )
    names = {t["name"] for t in reply.data["__schema"]["types"]}
    assert not names & {"NssfMembership", "NssfEmployer", "CertifiedPayment", "ReviewCase",
                        "RegistrationInput", "Household", "_Entity", "_Service", "_Any"}  # fmt: skip
    assert reply.data["__schema"]["mutationType"] is None
    assert (reply.data["nssf"], reply.data["pay"], reply.data["review"]) == (None, None, None)
    fields = {f["name"]: {a["name"] for a in f["args"]} for f in reply.data["query"]["fields"]}
    assert fields == {
        "person": {"spid"},
        "people": {"first", "after", "communeCode", "districtCode", "provinceCode"},
        "verifyKhmerId": {"khmerId", "familyName", "givenName", "birthDate"},
    }


async def test_federation_fields_are_not_reachable_through_the_gateway(stack: PolicyStack) -> None:
    for query in (
        '{ _entities(representations: [{__typename: "Person", spid: "1"}]) { __typename } }',
        "{ _service { sdl } }",
    ):
        for partner in ("ngo-cash", "registry"):
            reply = await stack.ask(partner, query)
            assert validation_failed(reply), (partner, query)


# -- errors and suggestions -----------------------------------------------------------------


async def test_errors_suggest_nothing_hidden(stack: PolicyStack) -> None:
    spid = person_in(stack, ("12", "21")).spid
    reply = await stack.ask("ngo-cash", f'{{ person(spid: "{spid}") {{ phon histor nssff }} }}')
    assert validation_failed(reply)
    text = " ".join(reply.messages)
    assert not re.search(r"\b(phone|history|nssf)\b", text), text
    analyst = await stack.ask(
        "nspc", '{ people(provinceCode: "12", first: 1) { edges { node { familyNam } } } }'
    )
    assert "familyName" not in " ".join(analyst.messages)


async def test_a_hidden_field_fails_exactly_like_a_missing_one(stack: PolicyStack) -> None:
    spid = person_in(stack, ("12", "21")).spid
    hidden = await stack.ask("ngo-cash", f'{{ person(spid: "{spid}") {{ phone }} }}')
    missing = await stack.ask("ngo-cash", f'{{ person(spid: "{spid}") {{ fone }} }}')
    assert hidden.status == missing.status == 400
    assert hidden.messages == [m.replace("fone", "phone") for m in missing.messages]


# -- arguments and variables ----------------------------------------------------------------


async def test_a_filter_on_a_field_the_partner_cannot_see_is_refused_like_a_hidden_field(
    stack: PolicyStack,
) -> None:
    person = person_in(stack, ("12", "21"))
    # The NGO sees villages only cut to the commune: no search by village code.
    by_village = await stack.ask(
        "ngo-cash",
        f'{{ people(villageCode: "{person.village_code}") {{ edges {{ node {{ spid }} }} }} }}',
    )
    assert validation_failed(by_village)
    assert by_village.messages == ["Unknown argument 'villageCode' on field 'Query.people'."]
    # The analyst sees no SPID as it is: no lookup by SPID, and no search by name.
    assert validation_failed(
        await stack.ask("nspc", f'{{ person(spid: "{person.spid}") {{ sex }} }}')
    )


async def test_variables_cannot_fill_what_the_credentials_decide(stack: PolicyStack) -> None:
    registration = {
        "operator": "idpoor",
        "programme": "health_care",
        "localId": "N-1",
        "familyName": "Sok",
        "givenName": "Dara",
        "birthDate": "1990-05-17",
        "sex": "MALE",
        "villageCode": person_in(stack, ("21",)).village_code,
    }
    reply = await stack.ask(
        "nssf",
        "mutation R($r: RegistrationInput!) { registerPerson(input: $r) { spid } }",
        {"r": registration},
        purpose="enrolment",
    )
    # Refused by the gateway, before any subgraph: the field is not in the partner's schema.
    assert reply.codes == ["BAD_USER_INPUT"]
    assert "not to include unknown field 'operator'" in reply.messages[0]
    assert "data" not in reply.body
    fields = await stack.ask(
        "nssf",
        '{ __type(name: "RegistrationInput") { inputFields { name } } }',
        purpose="enrolment",
    )
    names = {f["name"] for f in fields.data["__type"]["inputFields"]}
    assert "programme" in names and not names & {"operator", "registeredBy"}


async def test_mutations_the_agreement_does_not_grant_do_not_exist(stack: PolicyStack) -> None:
    merge = 'mutation { mergePeople(survivorSpid: "1", mergedSpid: "2", reason: "x") { spid } }'
    for partner in ("ngo-cash", "nspc", "nssf"):
        reply = await stack.ask(partner, merge)
        assert validation_failed(reply), partner
    register = await stack.ask(
        "registry",
        'mutation { registerPerson(input: {programme: "x", localId: "1", familyName: "A", '
        'givenName: "B", birthDate: "1990", sex: MALE, villageCode: "12010101"}) { spid } }',
    )
    assert validation_failed(register)  # registry staff are no operator


async def test_a_registration_for_a_programme_not_agreed_is_refused(stack: PolicyStack) -> None:
    reply = await stack.ask(
        "nssf",
        'mutation R($v: String!) { registerPerson(input: {programme: "idpoor", '
        'localId: "N-2", familyName: "Sok", givenName: "Dara", birthDate: "1990-05-17", '
        "sex: MALE, villageCode: $v}) { spid } }",
        {"v": person_in(stack, ("21",)).village_code},
        purpose="enrolment",
    )
    assert reply.data is None
    assert "idpoor" in reply.messages[0]


# -- HTTP -----------------------------------------------------------------------------------


async def test_get_runs_queries_under_the_same_view_and_refuses_mutations(
    stack: PolicyStack,
) -> None:
    person = person_in(stack, ("12", "21"))
    got = await stack.ask(
        "ngo-cash", "query P($s: String!) { person(spid: $s) { khmerId } }", {"s": person.spid},
        method="GET",
    )  # fmt: skip
    assert got.data == {"person": {"khmerId": "*****" + person.khmer_id[-4:]}}
    hidden = await stack.ask(
        "ngo-cash", f'{{ person(spid: "{person.spid}") {{ phone }} }}', method="GET"
    )
    assert validation_failed(hidden)
    mutation = await stack.ask(
        "nssf", 'mutation { registerPerson(input: {programme: "pension"}) { spid } }',
        purpose="enrolment", method="GET",
    )  # fmt: skip
    assert mutation.status in (400, 405) and "data" not in mutation.body


async def test_batched_requests_are_refused(stack: PolicyStack) -> None:
    async with stack.session.post(
        stack.gateway + "/graphql",
        json=[{"query": "{ __typename }"}, {"query": "{ __typename }"}],
        headers={
            "Authorization": f"Bearer {stack.key('ngo-cash')}",
            "X-Purpose": "eligibility_check",
        },
    ) as response:
        assert response.status == 400
        body = await response.json()
    assert "batched" in body["errors"][0]["message"]


async def test_subgraphs_answer_no_unsigned_request(stack: PolicyStack) -> None:
    spid = person_in(stack, ("21",)).spid
    query = {"query": f'{{ person(spid: "{spid}") {{ familyName khmerId }} }}'}
    for name in ("identity", "nssf"):
        url = stack.subgraphs[name] + "/graphql"
        async with stack.session.post(url, json=query) as response:
            assert response.status == 401
            assert "data" not in await response.json()
        async with stack.session.get(url, params=query) as response:
            assert response.status in (401, 405)
            assert spid not in await response.text()


# -- rows outside the scope -----------------------------------------------------------------


async def test_an_out_of_scope_person_is_absent_on_every_path(stack: PolicyStack) -> None:
    inside = person_in(stack, ("21",))
    away = person_out(stack, ("21",))
    await scope_idpoor_to(stack, "21")

    async def both(query: str, spid_like: Any, unknown: Any) -> None:
        seen = await stack.ask("idpoor", query % spid_like)
        blank = await stack.ask("idpoor", query % unknown)
        assert seen.body == blank.body, query

    await both('{ person(spid: "%s") { spid familyName } }', away.spid, "123456789010")
    await both(
        '{ household(householdId: "%s") { householdId members { person { spid } } } }',
        away.household_id,
        "HH-NOT-THERE",
    )
    search = (
        '{ searchPeople(familyName: "%s", givenName: "%s", birthDate: "%s") { person { spid } } }'
    )
    found = await stack.ask(
        "idpoor", search % (inside.family_name, inside.given_name, inside.birth_date)
    )
    assert inside.spid in {m["person"]["spid"] for m in found.data["searchPeople"]}
    hidden = await stack.ask(
        "idpoor", search % (away.family_name, away.given_name, away.birth_date)
    )
    assert away.spid not in str(hidden.body)
    listed = await stack.ask(
        "idpoor",
        "query L($p: String) { people(provinceCode: $p, first: 50) "
        "{ totalCount edges { node { spid } } } }",
        {"p": away.village_code[:2]},
    )
    assert listed.data == {"people": {"totalCount": 0, "edges": []}}


async def test_a_registration_does_not_reveal_an_existing_persons_spid(stack: PolicyStack) -> None:
    holder = person_out(stack, ("21",))  # NSSF has registered no one yet: all out of scope
    reply = await stack.ask(
        "nssf",
        """mutation R($r: RegistrationInput!) {
             registerPerson(input: $r) { spid decision reviewCaseId person { spid familyName } }
           }""",
        {
            "r": {
                "programme": "pension",
                "localId": "NSSF-ATTACK-1",
                "familyName": "Someone",
                "givenName": "Else",
                "birthDate": "1961-02-03",
                "sex": "FEMALE",
                "villageCode": holder.village_code,
                "khmerId": holder.khmer_id,
            }
        },
        purpose="enrolment",
    )
    assert reply.status == 200, reply.body
    outcome = reply.data["registerPerson"]
    assert outcome["decision"] == "REVIEW"
    assert holder.spid not in str(reply.body)
    # The provisional person is the partner's own registration: in its scope from now on.
    assert outcome["person"] == {"spid": outcome["spid"], "familyName": "Someone"}
    again = await stack.ask(
        "nssf", f'{{ person(spid: "{holder.spid}") {{ spid }} }}', purpose="enrolment"
    )
    assert again.data == {"person": None}


async def test_caller_headers_sent_by_a_partner_are_not_passed_on(stack: PolicyStack) -> None:
    away = person_out(stack, ("12", "21"))
    forged = {
        "X-Tonle-Partner": "registry",
        "X-Tonle-Purpose": "grievance",
        "X-Tonle-Scope": "{}",
        "X-Tonle-Operator": "nssf",
    }
    reply = await stack.ask(
        "ngo-cash", f'{{ person(spid: "{away.spid}") {{ spid }} }}', headers=forged
    )
    assert reply.data == {"person": None}  # still the NGO, still its two provinces


async def test_aliases_cannot_add_up_to_more_people_than_the_agreement_allows(
    stack: PolicyStack,
) -> None:
    current = await published(stack.sessions)
    assert current is not None
    data = current.document.to_json()
    agreement = next(a for a in data["agreements"] if a["partner"] == "ngo-cash")
    agreement["limits"]["max_people_per_request"] = 10
    number = await add_version(stack.sessions, read_stored(data), created_by="t", reason="t")
    await publish(stack.sessions, number, by="t", reason="t")
    await stack.access.store.refresh()
    page = 'people(provinceCode: "21", first: 8, after: $after) { pageInfo { endCursor } edges { node { spid } } }'
    one = await stack.ask("ngo-cash", f"query O($after: String) {{ {page} }}")
    assert len(one.data["people"]["edges"]) == 8
    after = one.data["people"]["pageInfo"]["endCursor"]
    both = await stack.ask(
        "ngo-cash",
        f"query T($after: String, $none: String) {{ a: {page.replace('$after', '$none')} "
        f"b: {page} }}",
        {"after": after},
    )
    assert (both.status, both.codes) == (400, ["LIMIT_EXCEEDED"])
    assert "data" not in both.body
