"""Policy files: read with every problem named by line, stored canonically, written back."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest

from policies.document import PolicyFileError, parse_policy, read_stored

DEMO = resources.files("tonle").joinpath("demo-policy.yaml").read_text("utf-8")

SMALL = """\
format: tonle-policy/1
purposes:
  statistics: {description: Counting, legal_basis: A law}
agreements:
  - partner: nspc
    purpose: statistics
    valid_until: 2027-01-31
    fields:
      Query: [people]
      Person: {spid: pseudonym, sex: visible}
    scope: {areas: ["12", "0102"]}
    limits: {max_people_per_request: 10}
"""


def problems(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(PolicyFileError) as raised:
        parse_policy(text, "p.yaml")
    return [(p.line, p.message) for p in raised.value.problems]


def test_the_demo_policy_reads() -> None:
    document = parse_policy(DEMO, "demo-policy.yaml")
    assert {a.partner for a in document.agreements} == {
        "registry",
        "nssf",
        "idpoor",
        "ngo-cash",
        "nspc",
        "pca",
    }
    ngo = document.agreement("ngo-cash", "eligibility_check")
    assert ngo is not None
    assert ngo.rule("Person", "khmerId") == "last4"
    assert ngo.rule("Person", "nssf") == "hidden"
    assert ngo.scope.areas == ("12", "21")
    assert ngo.valid_until == dt.date(2027, 5, 31)


def test_an_agreement_reads_with_its_defaults() -> None:
    agreement = parse_policy(SMALL).agreements[0]
    assert agreement.rule("Person", "spid") == "pseudonym"
    assert agreement.rule("Person", "familyName") == "hidden"
    assert agreement.limits.max_people_per_request == 10
    assert agreement.limits.requests_per_minute == 600  # a safe default
    assert agreement.valid_on(dt.date(2027, 1, 31))
    assert not agreement.valid_on(dt.date(2027, 2, 1))


def test_problems_are_named_with_their_lines() -> None:
    text = (
        SMALL.replace("sex: visible", "sex: blurred")
        .replace("valid_until: 2027-01-31", "valid_until: 2027-02-30")
        .replace('"0102"', '"01020"')
    )
    found = sorted(problems(text))
    assert found == [
        (7, "agreements[0].valid_until must be a date written YYYY-MM-DD; got '2027-02-30'"),
        (
            10,
            "'blurred' for Person.sex is not visible, hidden or a mask "
            "(nullify, last4, year, initial, commune, pseudonym, match_only)",
        ),
        (
            11,
            "area '01020' is not a province (2 digits), district (4) or commune (6) code of "
            "the gazetteer; quote codes that start with 0",
        ),
    ]


def test_unknown_keys_duplicates_and_missing_purposes_are_refused() -> None:
    text = SMALL.replace("    purpose: statistics\n", "    purpose: enrolment\n    colour: red\n")
    text += "  - partner: nspc\n    purpose: enrolment\n    fields: {Query: [people]}\n"
    found = problems(text)
    assert (
        6,
        "purpose 'enrolment' is not in the purposes catalogue (statistics); add it there first",
    ) in found
    assert any(line == 7 and "unknown key 'colour'" in message for line, message in found)
    assert any(line == 14 and "a second agreement for partner 'nspc'" in m for line, m in found)
    twice = problems(
        SMALL.replace("format: tonle-policy/1\n", "format: tonle-policy/1\nformat: x\n")
    )
    assert twice == [(2, "'format' is given twice; keep one")]


def test_yaml_that_does_not_parse_names_its_line() -> None:
    assert problems("format: tonle-policy/1\npurposes: [a\n") == [
        (3, "expected ',' or ']', but got '<stream end>' (fix the YAML syntax)")
    ]
    assert problems("- just a list\n")[0][0] == 1


def test_the_canonical_form_round_trips_and_fixes_the_digest() -> None:
    document = parse_policy(DEMO)
    again = read_stored(document.to_json())
    assert again == document
    assert again.digest() == document.digest()
    assert parse_policy(document.to_yaml()) == document
    changed = parse_policy(DEMO.replace("khmerId: last4", "khmerId: hidden"))
    assert changed.digest() != document.digest()


def test_an_agreement_may_require_trusted_documents_and_says_so_on_export() -> None:
    assert not parse_policy(SMALL).agreements[0].requires_trusted_documents
    assert parse_policy(SMALL).agreements[0].limits.requests_per_minute_per_end_user == 60
    required = parse_policy(SMALL + "    trusted_documents: required\n")
    (agreement,) = required.agreements
    assert agreement.requires_trusted_documents
    again = read_stored(required.to_json())
    assert again == required and again.digest() == required.digest()
    assert "trusted_documents: required" in required.to_yaml()
    assert "trusted_documents" not in parse_policy(SMALL).to_yaml()  # the default goes unsaid
    assert problems(SMALL + "    trusted_documents: sometimes\n") == [
        (13, "trusted_documents is optional or required; got 'sometimes'")
    ]
