"""For any agreement and any operation it allows, the answer holds exactly what the agreement
says: no field outside the view, no unmasked value of a masked field, no one outside the scope.

Hypothesis draws the agreement (a rule for every field of a person, a row scope) and the
operation (fields from the view, an area, a page size); the oracle computes the answer from
the population the registry was seeded with, applying the masks itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.document import read_stored
from policies.masks import MASKS
from policies.repository import add_version, publish, published
from tests.policy_stack import PolicyStack, policy_stack

PARTNER = "pca"
PURPOSE = "payment_reconciliation"
PERSON_FIELDS = (
    "spid", "khmerId", "familyName", "givenName", "familyNameKm", "givenNameKm", "birthDate",
    "birthDateAsKnown", "birthDatePrecision", "sex", "villageCode", "status",
)  # fmt: skip


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[PolicyStack]:
    registry = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with policy_stack(registry, tmp_path, people=120) as running:
        yield running


def registry_values(person: Any) -> dict[str, Any]:
    return {
        "spid": person.spid,
        "khmerId": person.khmer_id,
        "familyName": person.family_name,
        "givenName": person.given_name,
        "familyNameKm": person.family_name_km,
        "givenNameKm": person.given_name_km,
        "birthDate": person.birth_date.isoformat(),
        "birthDateAsKnown": person.birth_date.isoformat(),
        "birthDatePrecision": "DAY",
        "sex": person.sex.upper(),
        "villageCode": person.village_code,
        "status": "ACTIVE",
    }


def rules_for(stack: PolicyStack) -> dict[str, list[str]]:
    """Every rule each person field may get: hidden, visible, or a mask that fits its type."""
    person = stack.access.api_schema.get_type("Person")
    out = {}
    for name in PERSON_FIELDS:
        type_ = person.fields[name].type  # type: ignore[union-attr]
        fitting = [m for m, mask in MASKS.items() if mask.check(type_) is None]
        out[name] = ["hidden", "visible", *fitting]
    return out


async def enforce(stack: PolicyStack, rules: dict[str, str], areas: list[str] | None) -> None:
    current = await published(stack.sessions)
    assert current is not None
    data = current.document.to_json()
    agreement = next(a for a in data["agreements"] if a["partner"] == PARTNER)
    agreement["fields"] = {
        "Query": {"people": "visible", "person": "visible"},
        "Person": {name: rule for name, rule in rules.items() if rule != "hidden"},
        "PersonConnection": {"*": "visible"},
        "PersonEdge": {"*": "visible"},
        "PageInfo": {"*": "visible"},
    }
    agreement["scope"] = {"areas": areas, "own_registrations": False}
    agreement["limits"]["requests_per_minute"] = 100_000
    number = await add_version(
        stack.sessions, read_stored(data), created_by="hypothesis", reason="draw"
    )
    await publish(stack.sessions, number, by="hypothesis", reason="draw")
    await stack.access.store.refresh()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_every_answer_holds_exactly_what_the_agreement_allows(
    stack: PolicyStack, data: st.DataObject
) -> None:
    choices = rules_for(stack)
    rules = {
        name: data.draw(st.sampled_from(options), label=name) for name, options in choices.items()
    }
    provinces = sorted({p.village_code[:2] for p in stack.population.people})
    areas = data.draw(
        st.none() | st.lists(st.sampled_from(provinces), min_size=1, max_size=3, unique=True),
        label="areas",
    )
    await enforce(stack, rules, areas)

    visible = [name for name, rule in rules.items() if rule != "hidden"]
    hidden = [name for name, rule in rules.items() if rule == "hidden"]
    province = data.draw(st.sampled_from(provinces), label="province")
    first = data.draw(st.integers(min_value=1, max_value=40), label="first")
    asked = (
        data.draw(st.lists(st.sampled_from(visible), unique=True), label="fields")
        if visible
        else []
    )
    selection = " ".join(asked) or "__typename"
    query = f'{{ people(provinceCode: "{province}", first: {first}) {{ edges {{ node {{ {selection} }} }} }} }}'
    reply = await stack.ask(PARTNER, query, purpose=PURPOSE)

    if not visible:
        # Nothing of a person to see: pages keep their counts and cursors, but no node.
        assert set(reply.codes) == {"GRAPHQL_VALIDATION_FAILED"}, reply.body
        return
    filterable = rules["villageCode"] in ("visible", "commune")
    if not filterable:
        # The area filter needs the village code visible, or masked to the commune.
        assert set(reply.codes) == {"GRAPHQL_VALIDATION_FAILED"}, reply.body
        return
    assert reply.status == 200 and "errors" not in reply.body, reply.body
    person_type = stack.access.api_schema.get_type("Person")
    masks = {
        name: MASKS[rule].function(
            person_type.fields[name].type,  # type: ignore[union-attr]
            partner=PARTNER,
            pseudonym_key=stack.pseudonym_key,
        )
        for name, rule in rules.items()
        if rule not in ("hidden", "visible")
    }
    in_scope = [
        p
        for p in sorted(stack.population.people, key=lambda p: p.spid)
        if p.village_code.startswith(province)
        and (areas is None or any(p.village_code.startswith(a) for a in areas))
    ][:first]
    expected = []
    for person in in_scope:
        values = registry_values(person)
        node: dict[str, Any] = {}
        for name in asked:
            node[name] = masks[name](values[name]) if name in masks else values[name]
        if not asked:
            node["__typename"] = "Person"
        expected.append({"node": node})
    assert reply.data["people"]["edges"] == expected

    if hidden:
        name = data.draw(st.sampled_from(hidden), label="hidden field asked")
        refused = await stack.ask(
            PARTNER,
            f'{{ people(provinceCode: "{province}", first: 1) {{ edges {{ node {{ {name} }} }} }} }}',
            purpose=PURPOSE,
        )
        assert set(refused.codes) == {"GRAPHQL_VALIDATION_FAILED"}
        assert "data" not in refused.body
