"""See as this partner: the schema under a draft and its diff, and a query run under the draft
through the real subgraphs, answered exactly as a gateway enforcing that draft answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from policies.audit import search_accesses
from policies.cedar import PartnerFacts
from policies.console.preview import PreviewGateway, PreviewQuery, admin_partner, schema_preview
from policies.model import PolicyDocument, RowScopeRule
from policies.repository import add_version, publish, published
from tests.policies.schemas import demo_policy, tonle_gateway, tonle_supergraph
from tests.policy_stack import SECRET, PolicyStack, policy_stack

NGO = ("ngo-cash", "eligibility_check")
NGO_FACTS = PartnerFacts("ngo-cash", "development_partner")
PEOPLE = """
query Everyone($in: String!, $out: String!, $first: Int!) {
  inside: people(provinceCode: $in, first: $first) { ...page }
  outside: people(provinceCode: $out, first: $first) { ...page }
}
fragment page on PersonConnection {
  totalCount
  edges { node { spid familyName givenName khmerId birthDate villageCode } }
}"""


def provinces(stack: PolicyStack, first: int = 100) -> dict[str, object]:
    """The province of the population's first person, and another of theirs."""
    inside = stack.population.people[0].village_code[:2]
    outside = next(
        p.village_code[:2] for p in stack.population.people if p.village_code[:2] != inside
    )
    return {"in": inside, "out": outside, "first": first}


def with_ngo(document: PolicyDocument, **changes) -> PolicyDocument:
    old = document.agreement(*NGO)
    assert old is not None
    new = replace(old, **changes)
    return replace(document, agreements=tuple(new if a is old else a for a in document.agreements))


def masked_family_name(document: PolicyDocument, rule: str = "initial") -> PolicyDocument:
    old = document.agreement(*NGO)
    assert old is not None
    return with_ngo(
        document, fields={**old.fields, "Person": {**old.fields["Person"], "familyName": rule}}
    )


def test_the_schema_under_a_draft_and_its_difference_from_the_published_one() -> None:
    published_document = demo_policy()
    draft = masked_family_name(published_document)
    draft = with_ngo(draft, scope=RowScopeRule(areas=("12",)))
    preview = schema_preview(
        tonle_gateway(),
        NGO_FACTS,
        "eligibility_check",
        draft,
        "draft 7",
        published_document,
        "version 1",
    )
    assert preview.draft is not None and preview.published is not None
    assert "familyName: String!  # masked: initial" in preview.draft
    assert "# ngo-cash for eligibility_check, draft 7" in preview.draft
    changes = [(line.kind, line.text) for line in preview.diff if line.kind != "same"]
    assert ("removed", "# rows: areas 12, 21") in changes
    assert ("added", "# rows: areas 12") in changes
    assert ("removed", "  familyName: String!") in changes
    assert ("added", "  familyName: String!  # masked: initial") in changes
    # nothing else of the schema changed (the line naming the version is not compared)
    assert len(changes) == 4


def test_a_new_agreement_is_all_added_and_a_removed_one_all_removed() -> None:
    document = demo_policy()
    gone = replace(
        document, agreements=tuple(a for a in document.agreements if a.partner != "ngo-cash")
    )
    removed = schema_preview(
        tonle_gateway(), NGO_FACTS, "eligibility_check", gone, "draft", document, "version 1"
    )
    assert removed.draft is None and removed.changed
    assert {line.kind for line in removed.diff} == {"removed"}
    added = schema_preview(
        tonle_gateway(), NGO_FACTS, "eligibility_check", document, "draft", None, "nothing"
    )
    assert added.published is None and {line.kind for line in added.diff} == {"added"}


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[PolicyStack]:
    registry = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with policy_stack(registry, tmp_path) as running:
        yield running


def previewer(stack: PolicyStack) -> PreviewGateway:
    return PreviewGateway(
        tonle_supergraph(),
        stack.sessions,
        subgraph_urls={name: url + "/graphql" for name, url in stack.subgraphs.items()},
        gateway_secret=SECRET,
        pseudonym_key=stack.pseudonym_key,
    )


async def until_published(stack: PolicyStack, number: int) -> None:
    deadline = time.monotonic() + 5
    while stack.access.store.state.version != number:
        assert time.monotonic() < deadline, "the gateway did not load the new version in 5 s"
        await asyncio.sleep(0.05)


async def test_a_preview_answers_exactly_as_a_gateway_enforcing_the_draft(
    stack: PolicyStack,
) -> None:
    current = await published(stack.sessions)
    assert current is not None
    variables = provinces(stack)
    province = variables["in"]
    draft = masked_family_name(current.document)
    draft = with_ngo(draft, scope=RowScopeRule(areas=(province,)))
    asked = PreviewQuery(*NGO, PEOPLE, variables, "Everyone")
    preview = await previewer(stack).run(draft, "draft 7", "erin", asked)
    assert preview.status == 200 and "errors" not in preview.body, preview.body
    people = [e["node"] for e in preview.body["data"]["inside"]["edges"]]
    # outside the draft's scope nobody exists for the partner
    assert preview.body["data"]["outside"] == {"totalCount": 0, "edges": []}
    expected = {p.spid for p in stack.population.people if p.village_code[:2] == province}
    assert preview.body["data"]["inside"]["totalCount"] == len(expected), len(people)
    assert {p["spid"] for p in people} <= expected and len(people) == min(100, len(expected))
    assert all(p["familyName"].endswith(".") and len(p["familyName"]) == 2 for p in people)
    assert all(p["khmerId"] is None or p["khmerId"].startswith("*****") for p in people)

    # the same document published: a real gateway gives the very same answer
    number = await add_version(stack.sessions, draft, created_by="test", reason="compare")
    await publish(stack.sessions, number, by="test", reason="compare")
    await until_published(stack, number)
    real = await stack.ask("ngo-cash", PEOPLE, variables)
    assert real.status == 200
    assert real.body == preview.body


async def test_a_preview_is_logged_as_the_admins_access(stack: PolicyStack) -> None:
    current = await published(stack.sessions)
    assert current is not None
    person = stack.population.people[0]
    draft = with_ngo(current.document, scope=RowScopeRule())
    asked = PreviewQuery(
        *NGO, "query P($s: String!) { person(spid: $s) { spid sex } }", {"s": person.spid}
    )
    answer = await previewer(stack).run(draft, "draft 7", "erin", asked)
    assert answer.body["data"]["person"]["spid"] == person.spid
    page = await search_accesses(stack.sessions, partner="admin:erin")
    [record] = page.accesses
    assert record.seq == answer.logged_seq
    assert (record.purpose, record.end_user, record.policy_version) == (
        "eligibility_check",
        "preview as ngo-cash under draft 7",
        None,
    )
    assert record.fields == ("Person.sex", "Person.spid", "Query.person")
    # the partner itself has no record of it
    assert (await search_accesses(stack.sessions, partner="ngo-cash")).accesses == ()
    assert admin_partner("x" * 80) == "admin:" + "x" * 58


async def test_hostile_previews_are_refused_as_a_gateway_would(stack: PolicyStack) -> None:
    current = await published(stack.sessions)
    assert current is not None
    run = previewer(stack).run
    draft = current.document
    # a purpose the partner has no agreement for: refused, not a view of everything
    wrong = await run(
        draft, "d", "erin", PreviewQuery("ngo-cash", "statistics", PEOPLE, provinces(stack, 1))
    )
    assert (wrong.status, wrong.codes) == (403, ["FORBIDDEN_PURPOSE"])
    # more people than the agreement allows (500 for ngo-cash), over two aliases
    many = await run(draft, "d", "erin", PreviewQuery(*NGO, PEOPLE, provinces(stack, 251)))
    assert (many.status, many.codes) == (400, ["LIMIT_EXCEEDED"])
    # a mutation would change the live registry: never sent
    mutation = await run(
        draft,
        "d",
        "erin",
        PreviewQuery("nssf", "enrolment", "mutation { __typename }", {}),
    )
    assert (mutation.status, mutation.codes) == (400, ["BAD_REQUEST"])
    assert "queries only" in mutation.body["errors"][0]["message"]
    # a field the draft hides does not exist for the partner
    hidden = await run(
        draft,
        "d",
        "erin",
        PreviewQuery(*NGO, "{ people(first: 1) { edges { node { phone } } } }", {}),
    )
    assert hidden.codes == ["GRAPHQL_VALIDATION_FAILED"]
    # a partner the registry does not know
    ghost = await run(
        draft, "d", "erin", PreviewQuery("ghost", "statistics", PEOPLE, provinces(stack, 1))
    )
    assert (
        ghost.status == 400 and "No partner has code 'ghost'" in ghost.body["errors"][0]["message"]
    )
    # the agreement's dates hold in a preview as at a gateway
    ended = with_ngo(draft, valid_until=current.published_at.date().replace(year=2020))
    late = await run(ended, "d", "erin", PreviewQuery(*NGO, PEOPLE, provinces(stack, 1)))
    assert (late.status, late.codes) == (403, ["FORBIDDEN_PURPOSE"])
    # none of these returned data, so none was logged
    assert (await search_accesses(stack.sessions, partner="admin:erin")).accesses == ()


async def test_previews_spend_the_partners_rate_budget(stack: PolicyStack) -> None:
    current = await published(stack.sessions)
    assert current is not None
    old = current.document.agreement(*NGO)
    assert old is not None
    draft = with_ngo(current.document, limits=replace(old.limits, requests_per_minute=1))
    gateway = previewer(stack)
    asked = PreviewQuery(*NGO, "{ __typename }", {})
    first = await gateway.run(draft, "d", "erin", asked)
    assert first.status == 200
    second = await gateway.run(draft, "d", "eli", asked)
    assert (second.status, second.codes) == (429, ["RATE_LIMITED"])
