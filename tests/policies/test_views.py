"""Views decided by Cedar: visible, masked or hidden per field; guardrails win; filters follow."""

from __future__ import annotations

import pytest

from policies.cedar import Catalogue, CedarPolicies, PartnerFacts, cedar_schema, compile_agreement
from policies.check import check_policy
from policies.document import parse_policy
from policies.views import decide_view
from tests.policies.schemas import demo_policy, tiny_schema, tonle_gateway

POLICY = """\
format: tonle-policy/1
purposes:
  statistics: {description: Counting, legal_basis: A law}
  enrolment: {description: Enrolling, legal_basis: A statute}
from_credentials: [NewPerson.operator]
filters:
  - {argument: Query.byKhmerId(khmerId), field: Person.khmerId}
  - {argument: Query.people(area), field: Person.village, allows: [commune]}
guardrails: |
  @id("no-khmer-id-for-statistics")
  forbid (principal, action == Tonle::Action::"Person.khmerId",
          resource == Tonle::Purpose::"statistics")
  when { context.mask == "none" };
  @id("only-operators-register")
  forbid (principal, action == Tonle::Action::"Mutation.register", resource)
  unless { principal has operator };
agreements:
  - partner: analyst
    purpose: statistics
    fields:
      Query: [people, byKhmerId]
      Mutation: [register]
      Person: {spid: pseudonym, khmerId: visible, village: commune, card: visible}
      Card: [level]
  - partner: op
    purpose: enrolment
    fields:
      Query: "*"
      Mutation: [register]
      Person: {"*": visible, phone: hidden, khmerId: last4}
      Card: "*"
"""

ANALYST = PartnerFacts("analyst", "analyst")
OPERATOR = PartnerFacts("op", "operator", "nssf")


def view_of(partner: PartnerFacts, text: str = POLICY):  # type: ignore[no-untyped-def]
    document = parse_policy(text)
    cedar = CedarPolicies(document, Catalogue.of(tiny_schema()))
    agreement = next(a for a in document.agreements if a.partner == partner.code)
    return decide_view(cedar, partner, agreement, 7)


def test_each_field_is_visible_masked_or_hidden_as_agreed() -> None:
    view = view_of(OPERATOR)
    assert view.rule("Person", "name") == "visible"
    assert view.rule("Person", "khmerId") == "last4"
    assert view.rule("Person", "phone") == "hidden"  # the exception to "*"
    assert view.rule("Card", "number") == "visible"
    assert view.field_visible("Query", "byKhmerId")
    assert view.key == "op/enrolment@7"


def test_a_guardrail_forbids_what_an_agreement_grants() -> None:
    view = view_of(ANALYST)
    assert view.rule("Person", "khmerId") == "hidden"  # statistics: never unmasked
    assert view.rule("Mutation", "register") == "hidden"  # the analyst is no operator
    assert view.rule("Person", "spid") == "pseudonym"
    assert view.rule("Card", "number") == "hidden"  # not listed: hidden by default


def test_a_filter_argument_needs_its_field_visible_enough() -> None:
    analyst = view_of(ANALYST)
    # khmerId is hidden for the analyst: byKhmerId(khmerId) would be an oracle.
    assert not analyst.argument_visible("Query", "byKhmerId", "khmerId")
    # village masked to the commune is enough to filter by area ("allows: [commune]").
    assert analyst.argument_visible("Query", "people", "area")
    operator = view_of(OPERATOR)
    # last4 is not enough to search by the whole Khmer ID.
    assert not operator.argument_visible("Query", "byKhmerId", "khmerId")
    assert operator.argument_visible("Query", "people", "first")


def test_input_fields_filled_from_credentials_are_never_visible() -> None:
    operator = view_of(OPERATOR)
    assert operator.input_field_visible("NewPerson", "name")
    assert not operator.input_field_visible("NewPerson", "operator")


def test_own_registrations_of_a_partner_with_no_operator_reach_no_one() -> None:
    text = POLICY.replace(
        "      Card: [level]\n", "      Card: [level]\n    scope: {own_registrations: true}\n", 1
    )
    view = view_of(ANALYST, text)
    assert view.scope.operator == ""  # matches no programme link
    assert view_of(OPERATOR).scope.unrestricted


def test_agreements_compile_to_cedar_that_validates_against_the_generated_schema() -> None:
    import json

    import cedarpy

    document = parse_policy(POLICY)
    catalogue = Catalogue.of(tiny_schema())
    text = compile_agreement(document.agreements[1], catalogue, document)
    assert '@id("agreement op/enrolment: last4")' in text
    assert 'when { context.mask == "last4" }' in text
    result = cedarpy.validate_policies(text, json.dumps(cedar_schema(catalogue)))
    assert result.validation_passed, result.errors


def test_checks_name_unknown_fields_bad_masks_and_permits_posing_as_guardrails() -> None:
    text = (
        POLICY.replace("khmerId: last4", "khmerIdd: last4")
        .replace("card: visible}", "card: visible, birthDate: initial}")
        .replace(
            "guardrails: |\n",
            'guardrails: |\n  @id("sneaky")\n  permit (principal, action, resource);\n',
        )
    )
    result = check_policy(parse_policy(text, "p.yaml"), tiny_schema())
    messages = [str(p) for p in result.errors]
    # line 30, and two guardrail lines above it
    assert (
        "p.yaml:32: Person.khmerIdd is not a field of the API schema; did you mean khmerId?"
        in messages
    )
    assert "p.yaml:25: Person.birthDate: initial applies to ID, String fields, not Date" in messages
    assert "p.yaml:9: a guardrail must be a forbid policy: permits come from agreements" in messages


def test_a_guardrail_naming_a_field_that_does_not_exist_fails_cedar_validation() -> None:
    text = POLICY.replace(
        '"Person.khmerId",\n          resource', '"Person.khmerIdx",\n          resource'
    )
    result = check_policy(parse_policy(text, "p.yaml"), tiny_schema())
    assert [str(p) for p in result.errors][:1] == [
        "p.yaml:10: guardrail 'no-khmer-id-for-statistics': unrecognized action "
        '`Tonle::Action::"Person.khmerIdx"`'
    ]


def test_the_demo_policy_checks_clean_against_tonles_supergraph() -> None:
    partners = {
        "registry": PartnerFacts("registry", "registry_staff"),
        "nssf": PartnerFacts("nssf", "operator", "nssf"),
        "idpoor": PartnerFacts("idpoor", "operator", "idpoor"),
        "ngo-cash": PartnerFacts("ngo-cash", "development_partner"),
        "nspc": PartnerFacts("nspc", "analyst"),
        "pca": PartnerFacts("pca", "operator", "pca"),
    }
    result = check_policy(demo_policy(), tonle_gateway().api_schema, partners=partners)
    assert (result.errors, result.warnings) == ([], [])


def test_a_guardrail_that_removes_a_grant_is_a_warning() -> None:
    partners = {"analyst": ANALYST, "op": OPERATOR}
    result = check_policy(parse_policy(POLICY, "p.yaml"), tiny_schema(), partners=partners)
    assert result.errors == []
    assert sorted(str(w) for w in result.warnings) == [
        "p.yaml:22: a guardrail keeps Mutation.register hidden for analyst/statistics "
        "(the agreement says visible)",
        "p.yaml:23: a guardrail keeps Person.khmerId hidden for analyst/statistics "
        "(the agreement says visible)",
    ]


@pytest.mark.parametrize("partner", [ANALYST, OPERATOR])
def test_views_are_the_same_each_time(partner: PartnerFacts) -> None:
    assert view_of(partner) == view_of(partner)


def test_policies_view_prints_the_partners_schema_masks_and_its_own_operation_limits() -> None:
    from policies.repository import StoredVersion
    from tonle.policy_commands import render_view

    document = demo_policy()
    stored = StoredVersion(number=3, document=document, source=None)
    gateway = tonle_gateway()

    def view(code: str, partner: PartnerFacts, purpose: str) -> str:
        agreement = document.agreement(code, purpose)
        assert agreement is not None
        return render_view(gateway, stored, partner, agreement)

    registry = view("registry", PartnerFacts("registry", "registry_staff"), "grievance")
    assert registry.startswith("# registry for grievance, policy version 3\n")
    # the registry's agreement sets its own max_cost; every other operation limit is the
    # gateway's setting, so it is not named
    assert "# operation limits of its own (others: the gateway's settings): max_cost 1000000" in (
        registry
    )
    ngo = view("ngo-cash", PartnerFacts("ngo-cash", "development_partner"), "eligibility_check")
    assert "operation limits of its own" not in ngo
    assert "# limits: 500 people per request, 120 requests a minute" in ngo
    assert "# masked:" in ngo
    assert "type Mutation" not in ngo  # nothing to register for a development partner
