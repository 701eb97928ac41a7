"""The Check: every kind of finding, each from the smallest change to the demo policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from policies.cedar import PartnerFacts
from policies.console.warnings import KINDS, CheckReport, check_draft
from policies.model import Agreement, Limits, PolicyDocument, Purpose, RowScopeRule
from tests.policies.schemas import demo_policy, tonle_gateway
from tonle.demo_partners import DEMO_PARTNERS

TODAY = dt.date(2026, 11, 30)
PARTNERS = {p.code: PartnerFacts(p.code, p.kind, p.operator) for p in DEMO_PARTNERS}
NGO = ("ngo-cash", "eligibility_check")
NSPC = ("nspc", "statistics")


def check(document: PolicyDocument, partners=PARTNERS, today=TODAY) -> CheckReport:
    return check_draft(document, tonle_gateway().api_schema, partners, today=today)


def with_agreement(pair: tuple[str, str], **changes: Any) -> PolicyDocument:
    document = demo_policy()
    old = document.agreement(*pair)
    assert old is not None
    new = replace(old, **changes)
    return replace(document, agreements=tuple(new if a is old else a for a in document.agreements))


def with_fields(pair: tuple[str, str], type_name: str, **rules: str) -> PolicyDocument:
    old = demo_policy().agreement(*pair)
    assert old is not None
    fields = {**old.fields, type_name: {**old.fields.get(type_name, {}), **rules}}
    return with_agreement(pair, fields=fields)


def kinds(report: CheckReport) -> set[str]:
    return {f.kind for f in report.findings}


def test_the_demo_policy_checks_clean() -> None:
    report = check(demo_policy())
    assert report.ok
    # The Check's first real find, nspc's Query.household (it needs householdId, which nspc
    # sees only pseudonymised), is fixed in the demo policy: nothing is left to warn about.
    assert [(f.kind, f.partner, f.field) for f in report.findings] == []


def test_a_guardrail_that_is_no_forbid_is_an_error() -> None:
    document = replace(
        demo_policy(),
        guardrails='@id("oops")\npermit (principal, action, resource);',
    )
    report = check(document)
    assert not report.ok
    assert "a guardrail must be a forbid policy" in report.errors[0].message
    assert "unchecked" in kinds(report)


def test_a_guardrail_naming_a_field_the_schema_lacks_fails_cedar_validation() -> None:
    document = replace(
        demo_policy(),
        guardrails='@id("typo")\nforbid (principal, action == Tonle::Action::"Person.khmerIdd", resource);',
    )
    report = check(document)
    assert {f.kind for f in report.errors} == {"invalid"}
    assert "guardrail 'typo': unrecognized action" in report.errors[0].message
    assert "Person.khmerIdd" in report.errors[0].message


def test_no_query_field_is_an_error() -> None:
    old = demo_policy().agreement(*NGO)
    assert old is not None
    fields = {k: v for k, v in old.fields.items() if k != "Query"}
    report = check(with_agreement(NGO, fields=fields))
    assert [(f.kind, f.partner) for f in report.errors] == [("no_query_field", "ngo-cash")]


def test_a_field_the_supergraph_no_longer_has_is_a_warning_not_an_error() -> None:
    report = check(with_fields(NGO, "Person", shoeSize="visible"))
    assert report.ok
    [found] = report.of_kind("missing_field")
    assert found.field == "Person.shoeSize" and found.severity == "warning"
    assert "Remove it in the agreement editor" in found.message


def test_a_guardrail_that_blocks_what_the_agreement_grants() -> None:
    report = check(with_fields(NSPC, "Person", familyName="visible"))
    [found] = report.of_kind("guardrail_blocks")
    assert found.field == "Person.familyName"
    assert "keeps Person.familyName hidden" in found.message


def test_an_identity_field_visible_unmasked_for_statistics() -> None:
    report = check(with_fields(NSPC, "Person", birthDate="visible", phone="pseudonym"))
    found = report.of_kind("identity_for_statistics")
    assert [f.field for f in found] == ["Person.birthDate"]
    assert "visible unmasked for statistics" in found[0].message


def test_dates() -> None:
    expired = check(with_agreement(NGO, valid_until=dt.date(2026, 11, 1)))
    assert [f.field for f in expired.of_kind("expired")] == ["valid_until"]
    soon = check(with_agreement(NGO, valid_until=dt.date(2026, 12, 20)))
    assert "in 20 days" in soon.of_kind("ends_soon")[0].message
    later = check(with_agreement(NGO, valid_from=dt.date(2027, 1, 1)))
    assert later.of_kind("not_yet_valid")[0].severity == "notice"


def test_scopes_that_reach_no_one() -> None:
    nobody = check(with_agreement(NGO, scope=RowScopeRule(areas=())))
    assert nobody.of_kind("reaches_no_one")[0].field == "scope"
    not_operator = check(with_agreement(NGO, scope=RowScopeRule(own_registrations=True)))
    assert "which is no operator" in not_operator.of_kind("reaches_no_one")[0].message


def test_a_limit_of_zero() -> None:
    report = check(with_agreement(NGO, limits=Limits(max_people_per_request=0)))
    assert report.of_kind("limit_zero")[0].field == "limit:max_people_per_request"


def test_an_agreement_for_a_partner_the_registry_does_not_know() -> None:
    partners = {k: v for k, v in PARTNERS.items() if k != "pca"}
    report = check(demo_policy(), partners)
    assert [f.partner for f in report.of_kind("unknown_partner")] == ["pca"]


def test_programmes_without_a_registration_mutation() -> None:
    report = check(with_agreement(NGO, programmes=("cash",)))
    assert report.of_kind("programmes_without_registration")[0].field == "programmes"


def test_no_legal_basis_anywhere() -> None:
    document = demo_policy()
    purposes = {**document.purposes, "eligibility_check": Purpose("eligibility_check", "x", "")}
    report = check(replace(document, purposes=purposes))
    # ngo-cash names its own legal basis; nssf's eligibility check does not
    assert [f.partner for f in report.of_kind("no_legal_basis")] == ["nssf"]


def test_a_granted_field_the_partner_cannot_use() -> None:
    report = check(with_fields(NGO, "Query", personByKhmerId="visible"))
    found = [f for f in report.of_kind("unusable_grant") if f.partner == "ngo-cash"]
    assert found[0].field == "Query.personByKhmerId"
    assert "it filters by Person.khmerId" in found[0].message


def test_findings_are_ordered_errors_first_and_every_kind_is_described() -> None:
    document = with_fields(NGO, "Person", shoeSize="visible")
    document = replace(
        document, agreements=(*document.agreements, Agreement("x-y", "grievance", {}))
    )
    report = check(document)
    severities = [f.severity for f in report.findings]
    assert severities == sorted(severities, key=["error", "warning", "notice"].index)
    assert kinds(report) <= set(KINDS)
