"""The Check of a draft: Cedar validation against the API schema, and the warnings a careful
admin wants before asking for approval.

Errors keep a draft from being published: what ``policies.check.check_policy`` refuses
(names the API schema lacks in filters, subjects and the like, masks a field's type cannot
keep, guardrails that are no Cedar ``forbid`` or do not validate against the schema
generated from the API schema) and an agreement that leaves its partner no query field.
Warnings do not: each has a ``kind`` (below) so pages and tests can tell them apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from graphql import GraphQLNonNull, GraphQLSchema, Undefined

from policies.cedar import Catalogue, CedarPolicies, PartnerFacts
from policies.check import check_policy
from policies.errors import PolicyError
from policies.model import ALL_FIELDS, HIDDEN, VISIBLE, Agreement, PolicyDocument
from policies.views import View, decide_view

ERROR = "error"
WARNING = "warning"
NOTICE = "notice"

# The kinds of finding, in the order a page lists them.
KINDS = {
    "invalid": "refused by the policy check (Cedar and the API schema)",
    "no_query_field": "leaves its partner no query field",
    "missing_field": "names what the current supergraph no longer has",
    "guardrail_blocks": "a guardrail takes away what the agreement grants",
    "identity_for_statistics": "an identity field visible unmasked for statistics",
    "expired": "past its end date",
    "ends_soon": "ends within 30 days",
    "not_yet_valid": "starts later",
    "unusable_grant": "granted, but the partner cannot use it",
    "reaches_no_one": "its row scope reaches no one",
    "limit_zero": "a limit of 0 refuses every request",
    "unknown_partner": "no partner has this code",
    "programmes_without_registration": "programmes listed, registration not granted",
    "no_legal_basis": "no legal basis, neither its own nor its purpose's",
    "unchecked": "not checked until the errors are fixed",
}
SOON = dt.timedelta(days=30)
STATISTICS = "statistics"

# Fields that identify a person or household, directly or nearly so (a village and a birth
# date often single one out): for statistics they should be hidden, masked or pseudonymised.
# The document's subject keys (Person.spid, Household.householdId) are added to these.
IDENTITY_FIELDS = frozenset(
    {
        "Person.spid",
        "Person.khmerId",
        "Person.familyName",
        "Person.givenName",
        "Person.familyNameKm",
        "Person.givenNameKm",
        "Person.birthDate",
        "Person.birthDateAsKnown",
        "Person.phone",
        "Person.villageCode",
        "Household.householdId",
        "Household.headSpid",
        "Household.villageCode",
        "ProgramLink.localId",
        "ProgramLink.registeredSpid",
        "IdPoorStatus.householdId",
        "IdPoorStatus.equityCardNumber",
        "NssfMembership.memberId",
        "CertifiedPayment.paymentId",
        "PersonAccesses.spid",
        "ReviewCase.spid",
        "ReviewCase.candidateSpid",
        "RegistrationOutcome.spid",
        "RegistrationOutcome.candidateSpid",
    }
)


@dataclass(frozen=True)
class Finding:
    """One thing the Check found: how grave, what kind, where, and what to do."""

    severity: str  # error | warning | notice
    kind: str
    message: str
    partner: str | None = None
    purpose: str | None = None
    field: str | None = None  # Type.field (or an argument) it is about, for a link

    @property
    def agreement(self) -> str | None:
        return f"{self.partner}/{self.purpose}" if self.partner and self.purpose else None


@dataclass(frozen=True)
class CheckReport:
    """Every finding, errors first; a draft with errors cannot be published."""

    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == WARNING)

    @property
    def ok(self) -> bool:
        return not self.errors

    def of_kind(self, kind: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind == kind)


def check_draft(
    document: PolicyDocument,
    schema: GraphQLSchema,
    partners: Mapping[str, PartnerFacts],
    *,
    today: dt.date | None = None,
) -> CheckReport:
    """Check ``document`` against ``schema`` and the partners the registry knows."""
    today = today or dt.datetime.now(dt.UTC).date()
    catalogue = Catalogue.of(schema)
    pruned, findings = _without_missing(document, catalogue)
    result = check_policy(pruned, schema, today=today)
    findings.extend(Finding(ERROR, "invalid", str(p.message)) for p in result.errors)
    for agreement in pruned.agreements:
        findings.extend(_dates(agreement, today))
        findings.extend(_agreement_warnings(agreement, pruned, partners))
    if result.errors:
        findings.append(
            Finding(
                NOTICE,
                "unchecked",
                "Guardrails, views and the identity fields of statistics are checked once "
                "the errors above are fixed.",
            )
        )
    else:
        try:
            cedar = CedarPolicies(pruned, catalogue)
        except PolicyError as error:
            findings.append(Finding(ERROR, "invalid", str(error)))
        else:
            for agreement in pruned.agreements:
                facts = partners.get(agreement.partner) or PartnerFacts(agreement.partner, "")
                view = decide_view(cedar, facts, agreement, 0)
                findings.extend(_view_findings(agreement, view, pruned, catalogue, schema))
    order = {ERROR: 0, WARNING: 1, NOTICE: 2}
    kinds = list(KINDS)
    findings.sort(
        key=lambda f: (order[f.severity], kinds.index(f.kind), f.partner or "", f.purpose or "")
    )
    return CheckReport(tuple(findings))


def _without_missing(
    document: PolicyDocument, catalogue: Catalogue
) -> tuple[PolicyDocument, list[Finding]]:
    """The document without the fields, types and arguments the API schema no longer has
    (a gateway ignores them), and a warning for each."""
    findings: list[Finding] = []
    agreements = []
    for agreement in document.agreements:
        fields: dict[str, dict[str, str]] = {}
        for type_name, rules in agreement.fields.items():
            known = catalogue.fields.get(type_name)
            if known is None:
                findings.append(
                    _missing(agreement, type_name, f"type {type_name} is not in the API schema")
                )
                continue
            kept = {}
            for name, rule in rules.items():
                if name == ALL_FIELDS or name in known:
                    kept[name] = rule
                else:
                    findings.append(
                        _missing(
                            agreement,
                            f"{type_name}.{name}",
                            f"{type_name}.{name} ({rule}) is not in the API schema",
                        )
                    )
            fields[type_name] = kept
        hidden = frozenset(n for n in agreement.hidden_arguments if catalogue.has_argument(n))
        for name in sorted(agreement.hidden_arguments - hidden):
            findings.append(
                _missing(agreement, name, f"hidden argument {name} is not in the API schema")
            )
        agreements.append(replace(agreement, fields=fields, hidden_arguments=hidden))
    return replace(document, agreements=tuple(agreements)), findings


def _missing(agreement: Agreement, name: str, what: str) -> Finding:
    return Finding(
        WARNING,
        "missing_field",
        f"{agreement.partner}/{agreement.purpose}: {what} any more (the current supergraph "
        "dropped or renamed it); gateways ignore it. Remove it in the agreement editor.",
        agreement.partner,
        agreement.purpose,
        name,
    )


def _dates(agreement: Agreement, today: dt.date) -> Iterable[Finding]:
    who = f"{agreement.partner}/{agreement.purpose}"
    until = agreement.valid_until
    if until is not None and until < today:
        yield Finding(
            WARNING,
            "expired",
            f"{who} ended on {until}: every request under it is refused (FORBIDDEN_PURPOSE). "
            "Renew it with a later end date, or remove it.",
            agreement.partner,
            agreement.purpose,
            "valid_until",
        )
    elif until is not None and until - today <= SOON:
        yield Finding(
            WARNING,
            "ends_soon",
            f"{who} ends on {until}, in {(until - today).days} days.",
            agreement.partner,
            agreement.purpose,
            "valid_until",
        )
    if agreement.valid_from is not None and agreement.valid_from > today:
        yield Finding(
            NOTICE,
            "not_yet_valid",
            f"{who} starts on {agreement.valid_from}; until then its requests are refused.",
            agreement.partner,
            agreement.purpose,
            "valid_from",
        )


def _agreement_warnings(
    agreement: Agreement, document: PolicyDocument, partners: Mapping[str, PartnerFacts]
) -> Iterable[Finding]:
    who = f"{agreement.partner}/{agreement.purpose}"
    at = {"partner": agreement.partner, "purpose": agreement.purpose}
    partner = partners.get(agreement.partner)
    if partner is None:
        yield Finding(
            WARNING,
            "unknown_partner",
            f"{who}: no partner has code {agreement.partner!r} yet; create it under Partners "
            "or the agreement serves no one.",
            **at,
        )
    if agreement.scope.areas == ():
        yield Finding(
            WARNING, "reaches_no_one", f"{who}: its row scope lists no area.", **at, field="scope"
        )
    if agreement.scope.own_registrations and partner is not None and not partner.operator:
        yield Finding(
            WARNING,
            "reaches_no_one",
            f"{who}: 'own registrations' for {agreement.partner}, which is no operator, "
            "reaches no one.",
            **at,
            field="own_registrations",
        )
    for name in ("max_people_per_request", "requests_per_minute"):
        if getattr(agreement.limits, name) == 0:
            yield Finding(
                WARNING,
                "limit_zero",
                f"{who}: {name.replace('_', ' ')} is 0, so every request is refused.",
                **at,
                field=f"limit:{name}",
            )
    registers = any(
        agreement.rule("Mutation", m) != HIDDEN for m in ("registerPerson", "registerPeople")
    )
    if agreement.programmes is not None and not registers:
        yield Finding(
            WARNING,
            "programmes_without_registration",
            f"{who} lists programmes ({', '.join(agreement.programmes) or 'none'}) but grants "
            "no registration mutation.",
            **at,
            field="programmes",
        )
    purpose = document.purposes.get(agreement.purpose)
    if not (agreement.legal_basis or (purpose and purpose.legal_basis)):
        yield Finding(
            WARNING,
            "no_legal_basis",
            f"{who} names no legal basis, and neither does its purpose.",
            **at,
            field="legal_basis",
        )


def _view_findings(
    agreement: Agreement,
    view: View,
    document: PolicyDocument,
    catalogue: Catalogue,
    schema: GraphQLSchema,
) -> Iterable[Finding]:
    who = f"{agreement.partner}/{agreement.purpose}"
    at = {"partner": agreement.partner, "purpose": agreement.purpose}
    if not view.fields.get("Query"):
        yield Finding(
            ERROR,
            "no_query_field",
            f"{who} leaves no Query field visible: grant at least one field of Query.",
            **at,
        )
    for type_name, field_name in catalogue.field_actions():
        granted = agreement.rule(type_name, field_name)
        got = view.rule(type_name, field_name)
        name = f"{type_name}.{field_name}"
        if granted != HIDDEN and got != granted:
            result = "hidden" if got == HIDDEN else f"only {got}"
            yield Finding(
                WARNING,
                "guardrail_blocks",
                f"{who}: a guardrail keeps {name} {result} (the agreement says {granted}).",
                **at,
                field=name,
            )
    if agreement.purpose == STATISTICS:
        identity = IDENTITY_FIELDS | {n for names in document.subjects.values() for n in names}
        for name in sorted(identity):
            type_name, _, field_name = name.partition(".")
            if view.rule(type_name, field_name) == VISIBLE:
                yield Finding(
                    WARNING,
                    "identity_for_statistics",
                    f"{who}: {name} is visible unmasked for statistics; hide it or mask it "
                    "(pseudonym, initial, year, commune).",
                    **at,
                    field=name,
                )
    yield from _unusable(agreement, view, document, schema)


def _unusable(
    agreement: Agreement, view: View, document: PolicyDocument, schema: GraphQLSchema
) -> Iterable[Finding]:
    """Fields granted whose required argument the partner may not give: its schema lacks them."""
    filters = {f.argument: f for f in document.filters}
    for type_name, rules in view.fields.items():
        definitions = getattr(schema.get_type(type_name), "fields", {})
        for field_name in rules:
            definition = definitions.get(field_name)
            if definition is None:
                continue
            for argument, spec in definition.args.items():
                name = f"{type_name}.{field_name}({argument})"
                required = isinstance(spec.type, GraphQLNonNull) and spec.default_value is Undefined
                if not required or name in view.arguments or name in document.from_credentials:
                    continue
                needs = filters.get(name)
                why = (
                    f"it filters by {needs.field}, which the agreement does not show "
                    + ("as it is" if not needs.allows else f"visible or {', '.join(needs.allows)}")
                    if needs is not None
                    else "the agreement hides it"
                )
                yield Finding(
                    WARNING,
                    "unusable_grant",
                    f"{agreement.partner}/{agreement.purpose}: {type_name}.{field_name} is "
                    f"granted but absent from the partner's schema, because its required "
                    f"argument {argument} is not usable: {why}.",
                    agreement.partner,
                    agreement.purpose,
                    f"{type_name}.{field_name}",
                )
