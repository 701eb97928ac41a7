"""A draft's agreements at a glance, and what one save changed, in words."""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    GraphQLSchema,
)

from policies.cedar import Catalogue
from policies.console.areas import gazetteer
from policies.console.drafting.controls import (
    LIMIT_LABELS,
    TEXTS,
    TRUSTED,
    text_of,
)
from policies.model import (
    ALL_FIELDS,
    HIDDEN,
    VISIBLE,
    Agreement,
    Limits,
    PolicyDocument,
    RowScopeRule,
)


@dataclass(frozen=True)
class AgreementSummary:
    """One agreement in the draft's list: what it shows, whom, when; how it changed."""

    partner: str
    purpose: str
    visible: int
    masked: int
    mutations: tuple[str, ...]
    scope: str
    valid: str
    status: str  # new | changed | unchanged | removed


def summarise(
    document: PolicyDocument, schema: GraphQLSchema, base: PolicyDocument | None
) -> list[AgreementSummary]:
    """Every agreement of ``document`` (and those ``base`` had that it dropped)."""
    catalogue = Catalogue.of(schema)
    out = []
    for agreement in document.agreements:
        before = base.agreement(agreement.partner, agreement.purpose) if base else None
        out.append(_summary(agreement, catalogue, _status(agreement, before, base)))
    if base is not None:
        for agreement in base.agreements:
            if document.agreement(agreement.partner, agreement.purpose) is None:
                out.append(_summary(agreement, catalogue, "removed"))
    return sorted(out, key=lambda s: (s.partner, s.purpose))


def _status(agreement: Agreement, before: Agreement | None, base: PolicyDocument | None) -> str:
    if base is None or before is None:
        return "new"
    return "unchanged" if before == agreement else "changed"


def _summary(agreement: Agreement, catalogue: Catalogue, status: str) -> AgreementSummary:
    visible = masked = 0
    for type_name, field_name in catalogue.field_actions():
        if type_name == "Mutation":
            continue
        rule = agreement.rule(type_name, field_name)
        if rule == VISIBLE:
            visible += 1
        elif rule != HIDDEN:
            masked += 1
    mutations = tuple(
        name
        for name in catalogue.fields.get("Mutation", ())
        if agreement.rule("Mutation", name) != HIDDEN
    )
    return AgreementSummary(
        partner=agreement.partner,
        purpose=agreement.purpose,
        visible=visible,
        masked=masked,
        mutations=mutations,
        scope=describe_scope(agreement.scope),
        valid=f"{agreement.valid_from or 'always'} to {agreement.valid_until or 'no end'}",
        status=status,
    )


def describe_scope(scope: RowScopeRule) -> str:
    """The row scope in words, areas with their names."""
    parts = []
    if scope.areas is not None:
        places = gazetteer()
        parts.append(
            "areas " + "; ".join(places.describe(a) for a in scope.areas)
            if scope.areas
            else "no area (reaches no one)"
        )
    if scope.own_registrations:
        parts.append("people its operator registered")
    return " and ".join(parts) or "everyone"


def agreement_changes(old: Agreement, new: Agreement, catalogue: Catalogue) -> list[str]:
    """What changed from ``old`` to ``new``, in short lines (for the trail and the page)."""
    out = []
    for type_name, field_name in catalogue.field_actions():
        before, after = old.rule(type_name, field_name), new.rule(type_name, field_name)
        if before != after:
            out.append(f"{type_name}.{field_name}: {before} → {after}")
    for type_name in sorted(set(old.fields) | set(new.fields)):
        before_default = old.fields.get(type_name, {}).get(ALL_FIELDS) or HIDDEN
        after_default = new.fields.get(type_name, {}).get(ALL_FIELDS) or HIDDEN
        if before_default != after_default:
            out.append(f"{type_name} fields added later: {before_default} → {after_default}")
        gone = {n for n in old.fields.get(type_name, {}) if n != ALL_FIELDS} - set(
            new.fields.get(type_name, {})
        )
        unknown = sorted(n for n in gone if n not in catalogue.fields.get(type_name, ()))
        out.extend(f"{type_name}.{n}: removed (no longer in the schema)" for n in unknown)
        if type_name in old.fields and type_name not in {*new.fields, *catalogue.fields}:
            out.append(f"type {type_name}: removed (no longer in the schema)")
    for name in sorted(old.hidden_arguments - new.hidden_arguments):
        out.append(f"{name}: usable")
    for name in sorted(new.hidden_arguments - old.hidden_arguments):
        out.append(f"{name}: hidden")
    if old.scope != new.scope:
        out.append(f"row scope: {describe_scope(old.scope)} → {describe_scope(new.scope)}")
    for name in vars(Limits()):
        before_limit, after_limit = getattr(old.limits, name), getattr(new.limits, name)
        if before_limit != after_limit:
            out.append(f"{LIMIT_LABELS.get(name, name)}: {before_limit} → {after_limit}")
    for name in (*TEXTS, TRUSTED):
        before_text, after_text = text_of(old, name), text_of(new, name)
        if before_text != after_text:
            out.append(f"{name.replace('_', ' ')}: {before_text or '—'} → {after_text or '—'}")
    return out
