"""Access policies end to end: each demo partner sees its agreed fields, for a declared purpose,
masked and scoped, within its limits; every access is logged; changes reach the gateway live."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from gateway.limits import OperationLimits
from policies.audit import verify, who_saw
from policies.audit.keys import public_key_from_env
from policies.document import read_stored
from policies.masks import MASKS
from policies.repository import add_version, publish, published, revoke_key
from tests.policy_stack import PolicyStack, policy_stack

NGO_AREAS = ("12", "21")


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[PolicyStack]:
    registry = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with policy_stack(registry, tmp_path) as running:
        yield running


def inside(stack: PolicyStack):  # type: ignore[no-untyped-def]
    return next(
        p for p in stack.population.people
        if p.village_code[:2] in NGO_AREAS and p.khmer_id
    )  # fmt: skip


def outside(stack: PolicyStack):  # type: ignore[no-untyped-def]
    return next(p for p in stack.population.people if p.village_code[:2] not in NGO_AREAS)


PERSON = (
    "query P($s: String!) { person(spid: $s) { spid familyName khmerId birthDate villageCode } }"
)


def agreement_of(data: dict[str, Any], partner: str) -> dict[str, Any]:
    return next(a for a in data["agreements"] if a["partner"] == partner)


async def republish(stack: PolicyStack, change: Callable[[dict[str, Any]], None]) -> int:
    """Publish the current policy changed by ``change`` (on its JSON form)."""
    current = await published(stack.sessions)
    assert current is not None
    data = current.document.to_json()
    change(data)
    document = read_stored(data)
    number = await add_version(stack.sessions, document, created_by="test", reason="test")
    await publish(stack.sessions, number, by="test", reason="test")
    return number


# -- authentication and purpose ---------------------------------------------------------


async def test_unknown_and_missing_keys_are_refused_with_401(stack: PolicyStack) -> None:
    for headers in ({}, {"Authorization": "Bearer tonle_000000000000_" + "x" * 43},
                    {"X-Api-Key": "not-a-key"}):  # fmt: skip
        reply = await stack.ask(None, "{ __typename }", purpose="grievance", headers=headers)
        assert reply.status == 401
        assert reply.codes == ["UNAUTHENTICATED"]
        assert "data" not in reply.body


async def test_a_key_off_by_one_character_is_refused(stack: PolicyStack) -> None:
    key = stack.key("registry")
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    reply = await stack.ask(
        None, "{ __typename }", purpose="grievance", headers={"X-Api-Key": tampered}
    )
    assert reply.status == 401


async def test_a_revoked_key_stops_working_within_seconds(stack: PolicyStack) -> None:
    assert (await stack.ask("pca", "{ __typename }")).status == 200
    key_id = stack.key("pca").split("_")[1]
    await revoke_key(stack.sessions, key_id)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if (await stack.ask("pca", "{ __typename }")).status == 401:
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the revoked key still worked after 5 s")


async def test_the_purpose_is_required_and_must_be_agreed(stack: PolicyStack) -> None:
    missing = await stack.ask("nssf", "{ __typename }", purpose=None)
    assert (missing.status, missing.codes) == (400, ["BAD_REQUEST"])
    assert missing.body["errors"][0]["extensions"]["purposes"] == ["eligibility_check", "enrolment"]
    assert "eligibility_check, enrolment" in missing.messages[0]
    wrong = await stack.ask("nssf", "{ __typename }", purpose="statistics")
    assert (wrong.status, wrong.codes) == (403, ["FORBIDDEN_PURPOSE"])


async def test_an_agreement_outside_its_dates_is_refused(stack: PolicyStack) -> None:
    await republish(stack, lambda d: agreement_of(d, "ngo-cash").update(valid_from="2026-12-15"))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        reply = await stack.ask("ngo-cash", "{ __typename }")
        if reply.status == 403:
            break
        await asyncio.sleep(0.1)
    assert (reply.status, reply.codes) == (403, ["FORBIDDEN_PURPOSE"])
    assert "from 2026-12-15" in reply.messages[0]


# -- views, masks and scope --------------------------------------------------------------


async def test_introspection_shows_each_partner_only_its_view(stack: PolicyStack) -> None:
    query = (
        '{ __type(name: "Person") { fields { name description } } '
        'n: __type(name: "NssfMembership") { name } }'
    )
    ngo = await stack.ask("ngo-cash", query)
    fields = {f["name"] for f in ngo.data["__type"]["fields"]}
    described = {f["name"]: f["description"] for f in ngo.data["__type"]["fields"]}
    assert described["khmerId"].endswith(
        "Masked for you (last4): all but the last four characters starred: *****6789."
    )
    assert "Masked" not in (described["familyName"] or "")
    assert fields == {
        "spid", "familyName", "givenName", "sex", "khmerId", "birthDate", "birthDateAsKnown",
        "villageCode", "address", "idpoor",
    }  # fmt: skip
    assert ngo.data["n"] is None  # NSSF's type does not exist for the NGO
    staff = await stack.ask("registry", query)
    assert "history" in {f["name"] for f in staff.data["__type"]["fields"]}
    assert staff.data["n"] == {"name": "NssfMembership"}


async def test_masked_fields_hold_the_masked_value_of_the_registry_s_own(
    stack: PolicyStack,
) -> None:
    person = inside(stack)
    reply = await stack.ask("ngo-cash", PERSON, {"s": person.spid})
    assert reply.status == 200, reply.body
    assert reply.data["person"] == {
        "spid": person.spid,
        "familyName": person.family_name,
        "khmerId": "*****" + person.khmer_id[-4:],
        "birthDate": f"{person.birth_date.year}-01-01",
        "villageCode": person.village_code[:6],
    }


async def test_analysts_get_pseudonyms_stable_across_requests_and_no_names(
    stack: PolicyStack,
) -> None:
    query = (
        "query P($p: String) { people(provinceCode: $p, first: 5) "
        "{ edges { node { spid sex household { householdId } } } } }"
    )
    province = {"p": stack.population.people[0].village_code[:2]}
    first = await stack.ask("nspc", query, province)
    again = await stack.ask("nspc", query, province)
    assert first.data == again.data
    nodes = [e["node"] for e in first.data["people"]["edges"]]
    assert nodes and all(n["spid"].startswith("ps_") for n in nodes)
    real = {p.spid for p in stack.population.people}
    assert not {n["spid"] for n in nodes} & real
    named = await stack.ask(
        "nspc",
        "query N($p: String) { people(provinceCode: $p, first: 1) "
        "{ edges { node { familyName } } } }",
        province,
    )
    assert named.codes == ["GRAPHQL_VALIDATION_FAILED"]


async def test_out_of_scope_people_do_not_exist_for_the_partner(stack: PolicyStack) -> None:
    away = outside(stack)
    unknown = "123456789010"
    assert (
        (await stack.ask("ngo-cash", PERSON, {"s": away.spid})).body
        == (await stack.ask("ngo-cash", PERSON, {"s": unknown})).body
        == {"data": {"person": None}}
    )
    listed = await stack.ask(
        "ngo-cash",
        "query L($p: String) { people(provinceCode: $p, first: 100) { edges { node { spid } } } }",
        {"p": away.village_code[:2]},
    )
    assert listed.data == {"people": {"edges": []}}
    # Registry staff see them.
    staff = await stack.ask("registry", PERSON, {"s": away.spid})
    assert staff.data["person"]["spid"] == away.spid


# -- limits -------------------------------------------------------------------------------


async def test_a_page_larger_than_the_agreement_allows_is_refused_before_any_fetch(
    stack: PolicyStack,
) -> None:
    reply = await stack.ask(
        "ngo-cash",
        'query Q($n: Int!) { people(provinceCode: "12", first: $n) { edges { node { spid } } } }',
        {"n": 501},
    )
    assert (reply.status, reply.codes) == (400, ["LIMIT_EXCEEDED"])
    extensions = reply.body["errors"][0]["extensions"]
    assert (extensions["limit"], extensions["value"], extensions["cap"]) == (
        "max_people_per_request", 501, 500,
    )  # fmt: skip
    assert "data" not in reply.body


async def test_pages_under_aliases_add_up_against_the_agreements_people(
    stack: PolicyStack,
) -> None:
    # NGO-Cash may see 500 people per request: two pages of 250 are just that, 250 + 251 not.
    query = (
        "query Q($a: Int!, $b: Int!) { "
        'a: people(provinceCode: "12", first: $a) { edges { node { spid } } } '
        'b: people(provinceCode: "21", first: $b) { edges { node { spid } } } }'
    )
    fits = await stack.ask("ngo-cash", query, {"a": 250, "b": 250})
    assert fits.status == 200 and "errors" not in fits.body
    over = await stack.ask("ngo-cash", query, {"a": 250, "b": 251})
    assert (over.status, over.codes) == (400, ["LIMIT_EXCEEDED"])
    extensions = over.body["errors"][0]["extensions"]
    assert (extensions["limit"], extensions["value"], extensions["cap"]) == (
        "max_people_per_request", 501, 500,
    )  # fmt: skip
    assert "501 people together (250 + 251)" in over.messages[0]
    assert "data" not in over.body


async def test_operation_limits_are_the_gateways_unless_the_agreement_sets_its_own(
    tmp_path: Path,
) -> None:
    # The gateway process allows an estimated cost of 50 (TONLE_MAX_COST=50). NGO-Cash's
    # agreement says nothing about cost, so 50 is its cap; the registry's agreement sets
    # max_cost: 1000000, which is its cap instead, whatever the process says.
    registry = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with policy_stack(registry, tmp_path, limits=OperationLimits(max_cost=50)) as stack:
        page = (
            "query P($p: String, $n: Int) { people(provinceCode: $p, first: $n) "
            "{ edges { node { spid } } } }"
        )
        province = inside(stack).village_code[:2]
        small = await stack.ask("ngo-cash", page, {"p": province, "n": 10})
        assert small.status == 200 and small.data["people"]["edges"]
        large = await stack.ask("ngo-cash", page, {"p": province, "n": 40})
        assert (large.status, large.codes) == (400, ["LIMIT_EXCEEDED"])
        extensions = large.body["errors"][0]["extensions"]
        assert (extensions["limit"], extensions["cap"]) == ("max_cost", 50)
        staff = await stack.ask("registry", page, {"p": province, "n": 40})
        assert staff.status == 200 and staff.data["people"]["edges"]
        # The process's other limits still hold for the registry: its agreement sets only cost.
        aliases = " ".join(f'x{i}: person(spid: "{i}") {{ spid }}' for i in range(40))
        aliased = await stack.ask("registry", "{ " + aliases + " }")
        assert aliased.codes == ["LIMIT_EXCEEDED"]
        assert aliased.body["errors"][0]["extensions"]["limit"] == "max_aliases"


async def test_verifications_beyond_the_agreement_never_reach_moi(stack: PolicyStack) -> None:
    aliases = " ".join(
        f'v{i}: verifyKhmerId(khmerId: "12345678{i}", familyName: "Sok", givenName: "Dara", '
        f'birthDate: "1990-01-0{i + 1}") {{ result }}'
        for i in range(6)
    )
    async with stack.session.get(stack.sandboxes["moi"] + "/admin/stats") as response:
        before = await response.json()
    reply = await stack.ask("ngo-cash", "{ " + aliases + " }")
    assert (reply.status, reply.codes) == (400, ["LIMIT_EXCEEDED"])
    assert reply.body["errors"][0]["extensions"]["limit"] == "verifications_per_request"
    async with stack.session.get(stack.sandboxes["moi"] + "/admin/stats") as response:
        after = await response.json()
    assert after == before


async def test_a_verification_answers_only_match_or_mismatch_when_the_agreement_says_so(
    stack: PolicyStack,
) -> None:
    query = '{ v: verifyKhmerId(khmerId: "%s", familyName: "X", givenName: "Y", birthDate: "1990-01-01") { result } }'
    missing = await stack.ask("ngo-cash", query % "999999999")
    staff = await stack.ask("registry", query % "999999999")
    assert staff.data == {"v": {"result": "NOT_FOUND"}}
    assert missing.data == {"v": {"result": "MISMATCH"}}  # found or not: not told


async def test_requests_beyond_the_rate_get_429_with_retry_after(stack: PolicyStack) -> None:
    await republish(
        stack, lambda d: agreement_of(d, "ngo-cash")["limits"].update(requests_per_minute=3)
    )
    await asyncio.sleep(0.6)
    statuses = [(await stack.ask("ngo-cash", "{ __typename }")) for _ in range(6)]
    limited = [r for r in statuses if r.status == 429]
    assert limited, [r.status for r in statuses]
    assert limited[0].codes == ["RATE_LIMITED"]
    assert int(limited[0].headers["Retry-After"]) >= 1


# -- live policy changes ----------------------------------------------------------------


async def test_a_published_change_reaches_the_running_gateway_within_5_seconds(
    stack: PolicyStack,
) -> None:
    person = inside(stack)
    before = await stack.ask("ngo-cash", PERSON, {"s": person.spid})
    assert before.data["person"]["familyName"] == person.family_name
    started = time.monotonic()
    await republish(
        stack,
        lambda d: agreement_of(d, "ngo-cash")["fields"]["Person"].update(familyName="initial"),
    )
    while time.monotonic() - started < 5:
        reply = await stack.ask("ngo-cash", PERSON, {"s": person.spid})
        if reply.data["person"]["familyName"] == person.family_name[0] + ".":
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the gateway did not enforce the new version within 5 s")


# -- the access log ----------------------------------------------------------------------


async def test_every_access_is_logged_with_fields_people_and_version(stack: PolicyStack) -> None:
    person = inside(stack)
    await stack.ask(
        "ngo-cash", PERSON, {"s": person.spid}, headers={"X-Tonle-End-User": "field-officer-7"}
    )
    await stack.ask("ngo-cash", "{ __typename }")  # no personal data: not logged
    deadline = time.monotonic() + 2
    found = []
    while not found and time.monotonic() < deadline:
        found = list((await who_saw(stack.sessions, person.spid)).accesses)
    (access,) = found
    current = await published(stack.sessions)
    assert current is not None
    assert (access.partner, access.purpose, access.end_user, access.operation_name) == (
        "ngo-cash", "eligibility_check", "field-officer-7", "P",
    )  # fmt: skip
    assert access.policy_version == current.number
    assert set(access.fields) == {
        "Query.person", "Person.spid", "Person.familyName", "Person.khmerId",
        "Person.birthDate", "Person.villageCode",
    }  # fmt: skip
    report = await verify(stack.sessions, public_key_from_env())
    assert report.intact, report


async def test_no_data_leaves_when_the_access_log_cannot_be_written(stack: PolicyStack) -> None:
    engine_url = stack.registry_url
    from identity_store import create_engine

    engine = create_engine(engine_url)
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE access_log RENAME TO access_log_away"))
    await engine.dispose()
    reply = await stack.ask("ngo-cash", PERSON, {"s": inside(stack).spid})
    assert reply.status == 503
    assert reply.codes == ["INTERNAL_SERVER_ERROR"]
    assert "data" not in reply.body
    assert "access log" in reply.messages[0]


async def test_the_subject_keys_are_logged_even_when_not_asked_for(stack: PolicyStack) -> None:
    person = inside(stack)
    await stack.ask(
        "ngo-cash", "query N($s: String!) { person(spid: $s) { familyName } }", {"s": person.spid}
    )
    await asyncio.sleep(0.2)
    (access,) = (await who_saw(stack.sessions, person.spid)).accesses
    assert "Person.spid" not in access.fields  # not returned, but recorded as whose data


def test_dates_in_the_demo_policy_are_still_ahead() -> None:
    # The NGO's agreement ends 2027-05-31; the tests above assume it is valid today.
    assert dt.date.today() < dt.date(2027, 5, 31)
    assert MASKS  # the masks module loads


async def test_registry_staff_see_who_saw_a_person_through_graphql(stack: PolicyStack) -> None:
    person = inside(stack)
    await stack.ask("ngo-cash", PERSON, {"s": person.spid}, headers={"X-Tonle-End-User": "clerk-9"})
    query = (
        "query W($s: String!) { accessesTo(spid: $s) "
        "{ spid accesses { partner purpose endUser operationName fields } } }"
    )
    reply = await stack.ask("registry", query, {"s": person.spid})
    assert reply.status == 200, reply.body
    (access,) = reply.data["accessesTo"]["accesses"]
    assert (access["partner"], access["purpose"], access["endUser"]) == (
        "ngo-cash", "eligibility_check", "clerk-9",
    )  # fmt: skip
    assert "Person.khmerId" in access["fields"]
    # The question is itself an access to that person, logged before the answer left.
    again = await stack.ask("registry", query, {"s": person.spid})
    partners = [a["partner"] for a in again.data["accessesTo"]["accesses"]]
    assert partners == ["registry", "ngo-cash"]
    # Nobody else has the field; an unknown SPID answers null.
    assert (await stack.ask("ngo-cash", query, {"s": person.spid})).codes == [
        "GRAPHQL_VALIDATION_FAILED"
    ]
    unknown = await stack.ask("registry", query, {"s": "123456789010"})
    assert unknown.data == {"accessesTo": None}


async def test_x_road_client_names_a_partner_only_from_a_trusted_security_server(
    stack: PolicyStack,
) -> None:
    import ipaddress

    headers = {"X-Road-Client": "CAMBODIA/GOV/NSSF/MEMBERS", "X-Road-UserId": "clerk-3"}
    untrusted = await stack.ask(None, "{ __typename }", purpose="enrolment", headers=headers)
    assert (untrusted.status, untrusted.codes) == (401, ["UNAUTHENTICATED"])
    assert "trusted only from the configured CamDX security servers" in untrusted.messages[0]
    stack.access.security_servers = (ipaddress.ip_network("10.0.0.0/8"),)  # not this caller
    elsewhere = await stack.ask(None, "{ __typename }", purpose="enrolment", headers=headers)
    assert elsewhere.status == 401
    stack.access.security_servers = (ipaddress.ip_network("127.0.0.1/32"),)
    trusted = await stack.ask(None, "{ __typename }", purpose="enrolment", headers=headers)
    assert (trusted.status, trusted.data) == (200, {"__typename": "Query"})
    # A client subsystem no partner has is nobody, even from the security server.
    stranger = await stack.ask(
        None, "{ __typename }", purpose="enrolment",
        headers={"X-Road-Client": "CAMBODIA/GOV/OTHER/SUB"},
    )  # fmt: skip
    assert stranger.status == 401


async def test_an_expired_key_is_refused(stack: PolicyStack) -> None:
    from policies.repository import issue_key

    issued = await issue_key(
        stack.sessions, "pca", expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5)
    )
    headers = {"Authorization": f"Bearer {issued.key}"}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the gateway learns of the key at its next poll
        if (await stack.ask(None, "{ __typename }", purpose="payment_reconciliation",
                            headers=headers)).status == 200:  # fmt: skip
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the new key was not accepted within 5 s")
    await asyncio.sleep(1.6)
    late = await stack.ask(
        None, "{ __typename }", purpose="payment_reconciliation", headers=headers
    )
    assert (late.status, late.codes) == (401, ["UNAUTHENTICATED"])
