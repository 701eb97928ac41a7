"""A submitted agreement form applied to the document: a new document, or problems that
each name their control.

A control whose submitted value is what the editor showed changes nothing, so an untouched
form gives back the very document it came from and changing one field's rule changes that
rule alone. A form shown before another save is refused by the document's digest.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import replace

from graphql import (
    GraphQLField,
    GraphQLSchema,
)

from policies.cedar import Catalogue
from policies.console.areas import gazetteer
from policies.console.drafting.controls import (
    AREA,
    AREAS,
    ARGUMENT,
    DATE,
    DEFAULT,
    DIGEST,
    EVERYONE,
    FIELD,
    GRANT_NAME,
    LIMIT,
    LIMIT_LABELS,
    MAX_LIMIT,
    NO,
    OWN,
    PREFIXES,
    PROGRAMME_CODE,
    REMOVE,
    SCOPE,
    STALE,
    TRUSTED,
    USABLE,
    YES,
    Applied,
    Form,
    FormProblem,
    checked_document,
    clean_text,
    last,
    limit_text,
    refused,
    rule_of,
    tokens,
)
from policies.masks import MASKS
from policies.model import (
    ALL_FIELDS,
    HIDDEN,
    OPERATION_LIMITS,
    TRUSTED_DOCUMENTS,
    VISIBLE,
    Agreement,
    Limits,
    PolicyDocument,
    RowScopeRule,
)


def apply_agreement_form(
    document: PolicyDocument,
    schema: GraphQLSchema,
    partner: str,
    purpose: str,
    form: Form,
) -> Applied:
    """The document with the agreement as the form says, or the problems with the form."""
    agreement = document.agreement(partner, purpose)
    if agreement is None:
        return refused(
            "agreement",
            f"this draft has no agreement for {partner} and {purpose}; add one first",
        )
    digest = last(form, DIGEST)
    if digest is not None and digest != document.digest():
        return refused(
            DIGEST,
            "this draft was changed since you opened this page (by another editor, or by you "
            "in another tab); open the agreement again and make your change there",
        )
    problems: list[FormProblem] = []
    used: set[str] = set()
    catalogue = Catalogue.of(schema)
    fields = _apply_fields(agreement, schema, catalogue, form, problems, used)
    hidden = _apply_arguments(agreement, document, catalogue, form, problems, used)
    scope = _apply_scope(agreement, form, problems)
    limits = _apply_limits(agreement, form, problems, used)
    valid_from = _apply_date(form, "valid_from", agreement.valid_from, problems)
    valid_until = _apply_date(form, "valid_until", agreement.valid_until, problems)
    if valid_from and valid_until and valid_until < valid_from:
        problems.append(
            FormProblem(
                "valid_until",
                f"Valid until ({valid_until}) is before valid from ({valid_from})",
            )
        )
    legal_basis = _apply_text(form, "legal_basis", agreement.legal_basis, problems)
    programmes = _apply_programmes(form, agreement.programmes, problems)
    grants = {
        name: _apply_grants(form, name, getattr(agreement, name), problems)
        for name in ("scopes", "policies")
    }
    trusted = last(form, TRUSTED)
    if trusted is not None and trusted not in TRUSTED_DOCUMENTS:
        problems.append(
            FormProblem(TRUSTED, f"Trusted documents is {' or '.join(TRUSTED_DOCUMENTS)}")
        )
        trusted = None
    for control in form:
        if control.startswith(PREFIXES) and control not in used:
            problems.append(
                FormProblem(
                    control,
                    f"{control.partition(':')[2]!r} is not part of this agreement's form (was "
                    "the schema changed?); open the agreement again",
                )
            )
    if problems:
        return Applied(None, tuple(problems))
    changed = replace(
        agreement,
        fields=fields,
        hidden_arguments=hidden,
        scope=scope,
        limits=limits,
        valid_from=valid_from,
        valid_until=valid_until,
        legal_basis=legal_basis,
        programmes=programmes,
        scopes=grants["scopes"],
        policies=grants["policies"],
        trusted_documents=trusted or agreement.trusted_documents,
    )
    if changed == agreement:
        return Applied(document)
    return checked_document(
        replace(
            document,
            agreements=tuple(changed if a is agreement else a for a in document.agreements),
        )
    )


def _apply_fields(
    agreement: Agreement,
    schema: GraphQLSchema,
    catalogue: Catalogue,
    form: Form,
    problems: list[FormProblem],
    used: set[str],
) -> Mapping[str, Mapping[str, str]]:
    out: dict[str, Mapping[str, str]] = dict(agreement.fields)
    for type_name, names in catalogue.fields.items():
        original = agreement.fields.get(type_name, {})
        rules = dict(original)
        control = DEFAULT + type_name
        wanted_default = last(form, control)
        if wanted_default is not None:
            used.add(control)
            current = original.get(ALL_FIELDS) or HIDDEN
            if wanted_default != current:
                if wanted_default == HIDDEN:
                    rules.pop(ALL_FIELDS, None)
                elif wanted_default == VISIBLE:
                    rules[ALL_FIELDS] = VISIBLE
                else:
                    problems.append(
                        FormProblem(
                            control, f"{type_name}: fields not listed are hidden or visible"
                        )
                    )
        type_ = schema.get_type(type_name)
        definitions: Mapping[str, GraphQLField] = getattr(type_, "fields", {})
        for field_name in names:
            control = f"{FIELD}{type_name}.{field_name}"
            wanted = last(form, control)
            if wanted is None:
                continue
            used.add(control)
            effective = rule_of(rules, field_name)
            if wanted == effective:
                continue
            problem = _rule_problem(wanted, definitions[field_name], rule_of(original, field_name))
            if problem is not None:
                problems.append(FormProblem(control, f"{type_name}.{field_name}: {problem}"))
                continue
            if wanted == (rules.get(ALL_FIELDS) or HIDDEN):
                rules.pop(field_name, None)
            else:
                rules[field_name] = wanted
        for name in list(original):
            control = f"{STALE}{type_name}.{name}"
            if name != ALL_FIELDS and name not in definitions:
                wanted = last(form, control)
                if wanted is not None:
                    used.add(control)
                if wanted == REMOVE:
                    rules.pop(name, None)
        if rules != original:
            if rules:
                out[type_name] = rules
            else:
                out.pop(type_name, None)
    for type_name in agreement.fields:
        if type_name not in catalogue.fields:
            control = STALE + type_name
            wanted = last(form, control)
            if wanted is not None:
                used.add(control)
            if wanted == REMOVE:
                out.pop(type_name, None)
    return out if out != agreement.fields else agreement.fields


def _rule_problem(wanted: str, definition: GraphQLField, stored: str) -> str | None:
    if wanted in (HIDDEN, VISIBLE) or wanted == stored:
        return None
    mask = MASKS.get(wanted)
    if mask is None:
        return f"{wanted!r} is not hidden, visible or a mask ({', '.join(MASKS)})"
    return mask.check(definition.type)


def _apply_arguments(
    agreement: Agreement,
    document: PolicyDocument,
    catalogue: Catalogue,
    form: Form,
    problems: list[FormProblem],
    used: set[str],
) -> frozenset[str]:
    hidden = set(agreement.hidden_arguments)
    for name in catalogue.argument_actions():
        control = ARGUMENT + name
        wanted = last(form, control)
        if wanted is None:
            continue
        used.add(control)
        if name in document.from_credentials:
            problems.append(
                FormProblem(
                    control,
                    f"{name} is filled from the partner's credentials; no agreement chooses it",
                )
            )
            continue
        if wanted == USABLE:
            hidden.discard(name)
        elif wanted == HIDDEN:
            hidden.add(name)
        else:
            problems.append(FormProblem(control, f"{name} is usable or hidden"))
    for name in agreement.hidden_arguments:
        if not catalogue.has_argument(name):
            control = STALE + name
            wanted = last(form, control)
            if wanted is not None:
                used.add(control)
            if wanted == REMOVE:
                hidden.discard(name)
    found = frozenset(hidden)
    return agreement.hidden_arguments if found == agreement.hidden_arguments else found


def _apply_scope(agreement: Agreement, form: Form, problems: list[FormProblem]) -> RowScopeRule:
    scope = agreement.scope
    areas = scope.areas
    mode = last(form, SCOPE)
    if mode == EVERYONE:
        areas = None
    elif mode == AREAS:
        codes = [str(c).strip() for c in form.get(AREA, ())]
        if scope.areas is not None and set(codes) == set(scope.areas):
            areas = scope.areas
        else:
            places = gazetteer()
            known = set(places.areas) | set(scope.areas or ())
            wrong = [c for c in codes if c not in known]
            for code in wrong:
                problems.append(
                    FormProblem(
                        AREA,
                        f"Row scope: {code[:20]!r} is not a province, district or commune of "
                        "the gazetteer",
                    )
                )
            if not codes:
                problems.append(
                    FormProblem(
                        AREA,
                        "Row scope: choose at least one area, or 'everyone' (an agreement "
                        "that should reach no one is better removed)",
                    )
                )
            if not wrong:
                areas = places.normalised(codes)
    elif mode is not None:
        problems.append(FormProblem(SCOPE, "Row scope is 'everyone' or 'areas'"))
    own = scope.own_registrations
    wanted = last(form, OWN)
    if wanted in (YES, NO):
        own = wanted == YES
    elif wanted is not None:
        problems.append(FormProblem(OWN, "Own registrations is yes or no"))
    if areas == scope.areas and own == scope.own_registrations:
        return scope
    return RowScopeRule(areas, own)


def _apply_limits(
    agreement: Agreement, form: Form, problems: list[FormProblem], used: set[str]
) -> Limits:
    changes: dict[str, int | None] = {}
    defaults = Limits()
    for name in vars(defaults):
        control = LIMIT + name
        raw = last(form, control)
        if raw is None:
            continue
        used.add(control)
        current = getattr(agreement.limits, name)
        text = raw.strip()
        if text == limit_text(current):
            continue
        digits = re.sub(r"[,_ ]", "", text)
        label = LIMIT_LABELS.get(name, name)
        if not digits:
            changes[name] = None if name in OPERATION_LIMITS else getattr(defaults, name)
        elif not (digits.isascii() and digits.isdigit()):
            problems.append(
                FormProblem(control, f"{label}: a whole number, 0 or more; got {text[:20]!r}")
            )
        elif int(digits) > MAX_LIMIT:
            problems.append(FormProblem(control, f"{label}: at most {MAX_LIMIT:,}"))
        else:
            changes[name] = int(digits)
    if not changes:
        return agreement.limits
    return replace(agreement.limits, **changes)  # type: ignore[arg-type]


def _apply_date(
    form: Form, name: str, current: dt.date | None, problems: list[FormProblem]
) -> dt.date | None:
    raw = last(form, name)
    if raw is None:
        return current
    text = raw.strip()
    if text == (current.isoformat() if current else ""):
        return current
    if not text:
        return None
    label = name.replace("_", " ").capitalize()
    try:
        if not DATE.match(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(FormProblem(name, f"{label}: a date written YYYY-MM-DD; got {text[:20]!r}"))
        return current


def _apply_text(
    form: Form, name: str, current: str | None, problems: list[FormProblem]
) -> str | None:
    raw = last(form, name)
    if raw is None or raw.strip() == (current or ""):
        return current
    text = clean_text(raw, name.replace("_", " ").capitalize(), name, problems)
    return text or None


def _changed_words(
    form: Form,
    name: str,
    shown: str,
    pattern: re.Pattern[str],
    what: str,
    problems: list[FormProblem],
) -> list[str] | None:
    """The words of a list control (commas or spaces between them), or None when it was
    left as shown or holds a word that is not ``what`` (a problem then)."""
    raw = last(form, name)
    if raw is None or raw.strip() == shown:
        return None
    words = tokens(raw)
    wrong = [w for w in words if not pattern.match(w)]
    if wrong:
        problems.append(FormProblem(name, f"{name.capitalize()}: {wrong[0][:30]!r} is not {what}"))
        return None
    return words


def _apply_programmes(
    form: Form, current: tuple[str, ...] | None, problems: list[FormProblem]
) -> tuple[str, ...] | None:
    words = _changed_words(
        form,
        "programmes",
        ", ".join(current or ()),
        PROGRAMME_CODE,
        "a programme code (lower-case letters, digits and _, such as health_care)",
        problems,
    )
    return current if words is None else tuple(dict.fromkeys(words)) or None


def _apply_grants(
    form: Form, name: str, current: frozenset[str], problems: list[FormProblem]
) -> frozenset[str]:
    words = _changed_words(
        form, name, ", ".join(sorted(current)), GRANT_NAME, "a name such as read:payments", problems
    )
    found = current if words is None else frozenset(words)
    return current if found == current else found
