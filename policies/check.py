"""Checking a policy against an API schema: errors that refuse it, warnings to read.

Errors: a type, field, argument or input field that the schema does not have (with the
closest names it does have), a mask on a field it cannot keep valid, a guardrail that
is not a Cedar ``forbid`` or does not validate against the generated Cedar schema, an
agreement that leaves its partner no query field. Warnings: what a careful admin would
want to know before publishing — an agreement for an unknown partner or past its end
date, a guardrail that takes away what an agreement grants, registration programmes
on an agreement that grants no registration, "own registrations" for a partner that is
not an operator.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from graphql import GraphQLSchema

from policies.cedar import Catalogue, CedarPolicies, PartnerFacts, check_cedar
from policies.errors import PolicyError
from policies.masks import MASKS
from policies.model import ALL_FIELDS, HIDDEN, VISIBLE, PolicyDocument, Problem
from policies.views import decide_view


@dataclass(frozen=True)
class CheckResult:
    """Errors refuse a policy; warnings are for its author to read."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _suggest(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def check_policy(
    document: PolicyDocument,
    schema: GraphQLSchema,
    *,
    partners: Mapping[str, PartnerFacts] | None = None,
    today: dt.date | None = None,
) -> CheckResult:
    """Check ``document`` against ``schema`` (and the known partners, when given)."""
    catalogue = Catalogue.of(schema)
    errors = _names(document, schema, catalogue)
    errors.extend(check_cedar(document, catalogue))
    warnings: list[Problem] = []
    today = today or dt.datetime.now(dt.UTC).date()
    for index, agreement in enumerate(document.agreements):
        at = ("agreements", index)
        who = f"{agreement.partner}/{agreement.purpose}"
        if agreement.valid_until is not None and agreement.valid_until < today:
            warnings.append(
                document.problem(f"{who} ended on {agreement.valid_until}", *at, "valid_until")
            )
        registers = any(
            agreement.rule("Mutation", m) != HIDDEN for m in ("registerPerson", "registerPeople")
        )
        if agreement.programmes is not None and not registers:
            warnings.append(
                document.problem(
                    f"{who} lists programmes but grants no registration mutation",
                    *at,
                    "programmes",
                )
            )
        if partners is None:
            continue
        partner = partners.get(agreement.partner)
        if partner is None:
            warnings.append(
                document.problem(
                    f"no partner has code {agreement.partner!r} yet (tonle partners create)",
                    *at,
                    "partner",
                )
            )
            continue
        if agreement.scope.own_registrations and not partner.operator:
            warnings.append(
                document.problem(
                    f"{who}: own_registrations for a partner that is no operator reaches no one",
                    *at,
                    "scope",
                )
            )
        if errors:
            continue
        errors.extend(_view_warnings(document, catalogue, partner, index, warnings))
    return CheckResult(errors, warnings)


def _view_warnings(
    document: PolicyDocument,
    catalogue: Catalogue,
    partner: PartnerFacts,
    index: int,
    warnings: list[Problem],
) -> list[Problem]:
    agreement = document.agreements[index]
    at = ("agreements", index)
    try:
        view = decide_view(CedarPolicies(document, catalogue), partner, agreement, 0)
    except PolicyError as error:
        return [document.problem(str(error), "guardrails")]
    if not view.fields.get("Query"):
        return [
            document.problem(
                f"{agreement.partner}/{agreement.purpose} leaves no Query field visible; "
                "grant at least one under fields: Query",
                *at,
                "fields",
            )
        ]
    for type_name, rules in agreement.fields.items():
        for field_name in catalogue.fields.get(type_name, ()):
            granted = agreement.rule(type_name, field_name)
            if granted == HIDDEN or (field_name not in rules and ALL_FIELDS not in rules):
                continue
            got = view.rule(type_name, field_name)
            if got != granted:
                result = "hidden" if got == HIDDEN else f"only {got}"
                warnings.append(
                    document.problem(
                        f"a guardrail keeps {type_name}.{field_name} {result} for "
                        f"{agreement.partner}/{agreement.purpose} (the agreement says {granted})",
                        *at,
                        "fields",
                        type_name,
                    )
                )
    return []


def _names(document: PolicyDocument, schema: GraphQLSchema, catalogue: Catalogue) -> list[Problem]:
    errors: list[Problem] = []
    for index, agreement in enumerate(document.agreements):
        for type_name, rules in agreement.fields.items():
            where = ("agreements", index, "fields", type_name)
            known = catalogue.fields.get(type_name)
            if known is None:
                errors.append(
                    document.problem(
                        f"{type_name} is not a type of the API schema with fields"
                        + _suggest(type_name, catalogue.fields),
                        *where,
                    )
                )
                continue
            for field_name, rule in rules.items():
                if field_name == ALL_FIELDS:
                    if rule in MASKS:
                        errors.append(
                            document.problem(
                                f"a mask ({rule}) cannot apply to every field of {type_name}; "
                                "name the fields it applies to",
                                *where,
                                field_name,
                            )
                        )
                    continue
                if field_name not in known:
                    errors.append(
                        document.problem(
                            f"{type_name}.{field_name} is not a field of the API schema"
                            + _suggest(field_name, known),
                            *where,
                            field_name,
                        )
                    )
                    continue
                if rule in (VISIBLE, HIDDEN):
                    continue
                type_ = schema.get_type(type_name)
                field_type = type_.fields[field_name].type  # type: ignore[union-attr]
                problem = MASKS[rule].check(field_type)
                if problem is not None:
                    errors.append(
                        document.problem(f"{type_name}.{field_name}: {problem}", *where, field_name)
                    )
        for i, name in enumerate(sorted(agreement.hidden_arguments)):
            if not catalogue.has_argument(name):
                errors.append(
                    document.problem(
                        f"{name} is not an argument or input field of the API schema",
                        "agreements",
                        index,
                        "hidden_arguments",
                        i,
                    )
                )
    for name in sorted(document.from_credentials):
        if not catalogue.has_argument(name):
            errors.append(
                document.problem(
                    f"{name} is not an argument or input field of the API schema",
                    "from_credentials",
                )
            )
    for i, needs in enumerate(document.filters):
        if not catalogue.has_argument(needs.argument):
            errors.append(
                document.problem(
                    f"{needs.argument} is not an argument of the API schema", "filters", i
                )
            )
        type_name, _, field_name = needs.field.partition(".")
        if field_name not in catalogue.fields.get(type_name, ()):
            errors.append(
                document.problem(f"{needs.field} is not a field of the API schema", "filters", i)
            )
    for name in sorted(document.verifications):
        type_name, _, field_name = name.partition(".")
        if field_name not in catalogue.fields.get(type_name, ()):
            errors.append(
                document.problem(f"{name} is not a field of the API schema", "verifications")
            )
    for kind, names in document.subjects.items():
        for name in names:
            type_name, _, key = name.partition(".")
            if key not in catalogue.fields.get(type_name, ()):
                errors.append(
                    document.problem(
                        f"subject {name} is not a field of the API schema", "subjects", kind
                    )
                )
    return errors
