"""The agreement editor's model: a form shown for an agreement and applied back."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.cedar import Catalogue
from policies.console.drafting import (
    AREA,
    DIGEST,
    OWN,
    SCOPE,
    Applied,
    add_agreement,
    agreement_form,
    apply_agreement_form,
    form_values,
    ordered_types,
    remove_agreement,
    set_purpose,
    summarise,
)
from policies.model import PolicyDocument
from tests.policies.schemas import demo_policy, tonle_gateway

NGO = ("ngo-cash", "eligibility_check")


def schema():
    return tonle_gateway().api_schema


def form_of(document: PolicyDocument, pair: tuple[str, str] = NGO) -> dict[str, list[str]]:
    return form_values(agreement_form(document, schema(), *pair))


def apply(document: PolicyDocument, changes: dict[str, Any], pair=NGO) -> Applied:
    sent = form_of(document, pair)
    sent.update({k: v if isinstance(v, list) else [v] for k, v in changes.items()})
    return apply_agreement_form(document, schema(), *pair, sent)


def changed(document: PolicyDocument, changes: dict[str, Any], pair=NGO) -> PolicyDocument:
    applied = apply(document, changes, pair)
    assert applied.problems == ()
    assert applied.document is not None
    return applied.document


def problems(document: PolicyDocument, changes: dict[str, Any], pair=NGO) -> dict[str, str]:
    applied = apply(document, changes, pair)
    assert applied.document is None
    return {p.control: p.message for p in applied.problems}


def test_an_untouched_form_gives_back_the_very_same_document() -> None:
    document = demo_policy()
    for agreement in document.agreements:
        pair = (agreement.partner, agreement.purpose)
        applied = apply_agreement_form(document, schema(), *pair, form_of(document, pair))
        assert applied.problems == ()
        assert applied.document is document, pair


def test_masking_a_field_gives_exactly_that_rule_in_the_document() -> None:
    document = demo_policy()
    new = changed(document, {"field:Person.familyName": "initial"})
    before, after = document.to_json(), new.to_json()
    index = next(i for i, a in enumerate(before["agreements"]) if a["partner"] == "ngo-cash")
    before["agreements"][index]["fields"]["Person"]["familyName"] = "initial"
    assert after == before


def test_hiding_a_field_of_a_type_shown_whole_lists_it_hidden() -> None:
    document = demo_policy()
    pair = ("registry", "grievance")
    new = changed(document, {"field:Person.khmerId": "hidden"}, pair)
    rules = new.agreement(*pair).fields["Person"]
    assert rules == {"*": "visible", "khmerId": "hidden"}
    # and showing it again leaves the type as it was written
    again = changed(new, {"field:Person.khmerId": "visible"}, pair)
    assert again.agreement(*pair).fields["Person"] == {"*": "visible"}


def test_unlisted_fields_rule_changes_only_the_fields_the_form_does_not_set() -> None:
    document = demo_policy()
    new = changed(document, {"default:Person": "visible"})
    agreement = new.agreement(*NGO)
    old = document.agreement(*NGO)
    assert agreement.fields["Person"]["*"] == "visible"
    # every field of today's schema keeps its rule; only fields added later become visible
    for type_name, field_name in Catalogue.of(schema()).field_actions():
        assert agreement.rule(type_name, field_name) == old.rule(type_name, field_name)


def test_a_mask_the_fields_type_cannot_keep_is_refused_naming_the_field() -> None:
    found = problems(demo_policy(), {"field:Person.birthDate": "initial"})
    assert found == {
        "field:Person.birthDate": "Person.birthDate: initial applies to ID, String fields, not Date"
    }
    found = problems(demo_policy(), {"field:Person.spid": "shout"})
    assert "'shout' is not hidden, visible or a mask" in found["field:Person.spid"]


def test_argument_rules_hide_and_restore_an_argument() -> None:
    document = demo_policy()
    name = "Query.people(villageCode)"
    hidden = changed(document, {f"arg:{name}": ["hidden"]})
    assert name in hidden.agreement(*NGO).hidden_arguments
    assert form_of(hidden)[f"arg:{name}"] == ["hidden"]
    usable = changed(hidden, {f"arg:{name}": ["hidden", "usable"]})
    assert usable.agreement(*NGO).hidden_arguments == document.agreement(*NGO).hidden_arguments


def test_an_argument_filled_from_credentials_cannot_be_chosen() -> None:
    found = problems(demo_policy(), {"arg:RegistrationInput.operator": ["hidden", "usable"]})
    assert "filled from the partner's credentials" in found["arg:RegistrationInput.operator"]


def test_allowed_mutations_are_the_mutation_fields() -> None:
    pair = ("nssf", "eligibility_check")
    new = changed(demo_policy(), {"field:Mutation.registerPerson": "visible"}, pair)
    assert new.agreement(*pair).fields["Mutation"] == {"registerPerson": "visible"}
    form = agreement_form(new, schema(), *pair)
    assert form.mutations is not None
    assert [f.name for f in form.mutations.fields if f.value == "visible"] == ["registerPerson"]


def test_row_scope_from_the_gazetteer() -> None:
    document = demo_policy()
    # a district inside a chosen province adds nothing: it is left out
    new = changed(document, {SCOPE: "areas", AREA: ["21", "1201", "120101"]})
    assert new.agreement(*NGO).scope.areas == ("1201", "21")
    everyone = changed(new, {SCOPE: "everyone"})
    assert everyone.agreement(*NGO).scope.areas is None
    own = changed(document, {OWN: ["no", "yes"]})
    assert own.agreement(*NGO).scope.own_registrations is True
    assert own.agreement(*NGO).scope.areas == ("12", "21")


def test_the_scope_picker_shows_english_and_khmer_names_and_what_is_chosen() -> None:
    form = agreement_form(demo_policy(), schema(), *NGO)
    phnom_penh = next(a for a in form.areas if a.code == "12")
    assert phnom_penh.checked and "Phnom Penh" in phnom_penh.label and "ភ្នំពេញ" in phnom_penh.label
    district = phnom_penh.children[0]
    assert district.covered and not district.checked
    assert len(form.areas) == 25


def test_bad_scopes_are_refused() -> None:
    assert (
        "'99' is not a province, district or commune"
        in problems(demo_policy(), {SCOPE: "areas", AREA: ["12", "99"]})[AREA]
    )
    assert "choose at least one area" in problems(demo_policy(), {SCOPE: "areas", AREA: []})[AREA]
    assert problems(demo_policy(), {SCOPE: "nowhere"}) == {
        SCOPE: "Row scope is 'everyone' or 'areas'"
    }


def test_limits() -> None:
    document = demo_policy()
    new = changed(
        document,
        {"limit:max_people_per_request": "1,000", "limit:max_cost": "", "limit:max_depth": "12"},
    )
    limits = new.agreement(*NGO).limits
    assert limits.max_people_per_request == 1000
    assert limits.max_depth == 12 and limits.max_cost is None
    # a blank base limit is its default
    assert changed(document, {"limit:requests_per_minute": " "}).agreement(
        *NGO
    ).limits.requests_per_minute == (600)
    for bad in ("-5", "ten", "1e9", "²"):
        found = problems(document, {"limit:max_people_per_request": bad})
        assert (
            "People per request: a whole number, 0 or more" in found["limit:max_people_per_request"]
        )
    found = problems(document, {"limit:max_cost": "99999999999"})
    assert found["limit:max_cost"] == "Estimated cost per operation: at most 1,000,000,000"


def test_validity_dates_and_legal_basis() -> None:
    document = demo_policy()
    new = changed(
        document,
        {"valid_from": "2026-07-01", "valid_until": "", "legal_basis": "  MoU of 2026  "},
    )
    agreement = new.agreement(*NGO)
    assert agreement.valid_from == dt.date(2026, 7, 1) and agreement.valid_until is None
    assert agreement.legal_basis == "MoU of 2026"
    assert problems(document, {"valid_until": "2026-13-01"}) == {
        "valid_until": "Valid until: a date written YYYY-MM-DD; got '2026-13-01'"
    }
    assert problems(document, {"valid_until": "2026-01-01"}) == {
        "valid_until": "Valid until (2026-01-01) is before valid from (2026-06-01)"
    }
    assert "no control characters" in problems(document, {"legal_basis": "a\x07b"})["legal_basis"]
    assert "at most 500 characters" in problems(document, {"legal_basis": "x" * 501})["legal_basis"]


def test_programmes_and_grants() -> None:
    pair = ("nssf", "enrolment")
    new = changed(
        demo_policy(),
        {"programmes": "pension, health_care", "scopes": "read:payments read:nssf"},
        pair,
    )
    agreement = new.agreement(*pair)
    assert agreement.programmes == ("pension", "health_care")
    assert agreement.scopes == frozenset({"read:payments", "read:nssf"})
    found = problems(demo_policy(), {"programmes": "Pension!"}, pair)
    assert "'Pension!' is not a programme code" in found["programmes"]


def test_a_changed_draft_refuses_a_form_shown_before_the_change() -> None:
    document = demo_policy()
    stale = form_of(document)
    newer = changed(document, {"field:Person.sex": "hidden"})
    stale["field:Person.givenName"] = ["initial"]
    applied = apply_agreement_form(newer, schema(), *NGO, stale)
    assert applied.document is None
    assert "this draft was changed since you opened this page" in applied.problems[0].message
    assert applied.problems[0].control == DIGEST


def test_a_control_of_no_field_is_refused() -> None:
    found = problems(demo_policy(), {"field:Person.secretScore": "visible", "limit:budget": "3"})
    assert set(found) == {"field:Person.secretScore", "limit:budget"}


def test_a_refused_form_is_shown_again_with_what_was_typed_and_the_problems() -> None:
    document = demo_policy()
    sent = form_of(document)
    sent["limit:max_people_per_request"] = ["lots"]
    sent["field:Person.sex"] = ["hidden"]
    applied = apply_agreement_form(document, schema(), *NGO, sent)
    form = agreement_form(document, schema(), *NGO, submitted=sent, problems=applied.problems)
    limit = next(r for r in form.limits if r.name == "max_people_per_request")
    assert limit.value == "lots"
    person = next(t for t in form.types if t.name == "Person")
    assert next(f for f in person.fields if f.name == "sex").value == "hidden"
    assert "lots" in form.problems["limit:max_people_per_request"][0]


def test_fields_the_schema_no_longer_has_are_shown_and_can_be_removed() -> None:
    document = demo_policy()
    agreement = document.agreement(*NGO)
    fields = {**agreement.fields, "Person": {**agreement.fields["Person"], "shoeSize": "visible"}}
    fields["Pet"] = {"name": "visible"}
    old = replace(
        document,
        agreements=tuple(
            replace(a, fields=fields) if a is agreement else a for a in document.agreements
        ),
    )
    form = agreement_form(old, schema(), *NGO)
    person = next(t for t in form.types if t.name == "Person")
    assert [s.name for s in person.stale] == ["Person.shoeSize"]
    assert [s.name for s in form.stale_types] == ["Pet"]
    # an untouched form keeps them (the Check warns), removing drops them
    assert apply_agreement_form(old, schema(), *NGO, form_values(form)).document is old
    cleaned = changed(
        old, {"stale:Person.shoeSize": ["keep", "remove"], "stale:Pet": ["keep", "remove"]}
    )
    assert cleaned.agreement(*NGO).fields == agreement.fields


def test_the_tree_starts_at_query_and_follows_its_fields() -> None:
    order = ordered_types(schema())
    # breadth first from Query: the types its fields return, then theirs
    assert order[0] == "Query"
    assert order.index("Person") < order.index("Address") < order.index("Place")
    form = agreement_form(demo_policy(), schema(), *NGO)
    person = next(t for t in form.types if t.name == "Person")
    address = next(f for f in person.fields if f.name == "address")
    assert address.target == "Address" and address.type_label == "Address!"
    khmer_id = next(f for f in person.fields if f.name == "khmerId")
    assert khmer_id.value == "last4"
    assert {c.value for c in khmer_id.choices} >= {"hidden", "visible", "last4", "pseudonym"}
    birth = next(f for f in person.fields if f.name == "birthDate")
    assert "initial" not in {c.value for c in birth.choices}


def test_agreements_are_added_copied_and_removed() -> None:
    document = demo_policy()
    added = add_agreement(document, "ngo-food", "eligibility_check", copy_of=NGO)
    assert added.document is not None
    copy = added.document.agreement("ngo-food", "eligibility_check")
    assert copy is not None and copy.fields == document.agreement(*NGO).fields
    empty = add_agreement(document, "ngo-food", "statistics").document
    assert empty is not None and empty.agreement("ngo-food", "statistics").fields == {}
    assert add_agreement(document, *NGO).problems[0].message == (
        "ngo-cash already has an agreement for eligibility_check"
    )
    assert (
        "not in the purposes catalogue" in add_agreement(document, "x-y", "fun").problems[0].message
    )
    assert "not a partner code" in add_agreement(document, "<b>", "statistics").problems[0].message
    removed = remove_agreement(document, *NGO).document
    assert removed is not None and removed.agreement(*NGO) is None
    statuses = {(s.partner, s.purpose): s.status for s in summarise(removed, schema(), document)}
    assert statuses[NGO] == "removed" and statuses[("pca", "payment_reconciliation")] == "unchanged"


def test_purposes_need_a_legal_basis() -> None:
    document = demo_policy()
    new = set_purpose(document, "research", "Academic research", "Statistics law art. 12")
    assert new.document is not None and "research" in new.document.purposes
    refused = set_purpose(document, "Research!", "x", "")
    assert {p.control for p in refused.problems} == {"code", "legal_basis"}


@st.composite
def one_change(draw: st.DrawFn) -> tuple[tuple[str, str], str, str]:
    document = demo_policy()
    agreement = draw(st.sampled_from(document.agreements))
    pair = (agreement.partner, agreement.purpose)
    form = agreement_form(document, schema(), *pair)
    row = draw(st.sampled_from(form.all_types()))
    field = draw(st.sampled_from(row.fields))
    choice = draw(st.sampled_from(field.choices))
    return pair, field.qualified, choice.value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(one_change())
def test_changing_one_fields_rule_changes_that_rule_alone(
    change: tuple[tuple[str, str], str, str],
) -> None:
    pair, qualified, rule = change
    document = demo_policy()
    new = changed(document, {f"field:{qualified}": rule}, pair)
    type_name, _, field_name = qualified.partition(".")
    for agreement in document.agreements:
        after = new.agreement(agreement.partner, agreement.purpose)
        assert after is not None
        for t, f in Catalogue.of(schema()).field_actions():
            expected = (
                rule
                if ((agreement.partner, agreement.purpose), t, f)
                == (
                    pair,
                    type_name,
                    field_name,
                )
                else agreement.rule(t, f)
            )
            assert after.rule(t, f) == expected
        if (agreement.partner, agreement.purpose) != pair:
            assert after == agreement
    # and the form shows the document it made as it is: applying it again changes nothing
    again = apply_agreement_form(new, schema(), *pair, form_of(new, pair))
    assert again.document is new


@pytest.mark.parametrize("pair", [NGO, ("nspc", "statistics")])
def test_the_form_lists_every_field_of_the_api_schema(pair: tuple[str, str]) -> None:
    form = agreement_form(demo_policy(), schema(), *pair)
    shown = {f.qualified for row in form.all_types() for f in row.fields}
    assert shown == {f"{t}.{f}" for t, f in Catalogue.of(schema()).field_actions()}


def test_what_a_save_changed_in_short_lines() -> None:
    from policies.console.drafting import agreement_changes

    document = demo_policy()
    new = changed(
        document,
        {
            "field:Person.familyName": "initial",
            "arg:Query.people(villageCode)": ["hidden"],
            SCOPE: "areas",
            AREA: ["12"],
            "limit:max_people_per_request": "250",
            "legal_basis": "MoU 2027",
        },
    )
    lines = agreement_changes(document.agreement(*NGO), new.agreement(*NGO), Catalogue.of(schema()))
    assert lines == [
        "Person.familyName: visible → initial",
        "Query.people(villageCode): hidden",
        "row scope: areas 12 Phnom Penh (រាជធានីភ្នំពេញ); 21 Takeo (តាកែវ) → areas 12 Phnom Penh (រាជធានីភ្នំពេញ)",
        "People per request: 500 → 250",
        "legal basis: Cash-transfer MoU with the Ministry of Social Affairs (demo placeholder). → MoU 2027",
    ]
