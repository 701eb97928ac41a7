"""One agreement as the editor shows it: the API schema as a tree of types (``Query`` first,
then each type in the order ``Query`` reaches it, each object field linking to its type),
every field's rule with only the masks its type can keep, the arguments and input fields,
the row scope picked from the gazetteer, the limits, the dates and the legal basis; and
what a browser sends back for it untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)

from policies.cedar import Catalogue
from policies.console.areas import Gazetteer, gazetteer
from policies.console.drafting.controls import (
    AREA,
    AREAS,
    ARGUMENT,
    DEFAULT,
    DIGEST,
    EVERYONE,
    FIELD,
    KEEP,
    LIMIT,
    LIMIT_LABELS,
    NO,
    OWN,
    REMOVE,
    SCOPE,
    STALE,
    TEXTS,
    TRUSTED,
    USABLE,
    YES,
    Form,
    FormProblem,
    last,
    limit_text,
    text_of,
)
from policies.console.drafting.rows import (
    AgreementForm,
    AreaRow,
    ArgumentRow,
    Choice,
    FieldRow,
    InputRow,
    LimitRow,
    StaleRow,
    TypeRow,
)
from policies.masks import MASKS
from policies.model import (
    ALL_FIELDS,
    HIDDEN,
    OPERATION_LIMITS,
    VISIBLE,
    Agreement,
    Filter,
    Limits,
    PolicyDocument,
)


def ordered_types(schema: GraphQLSchema) -> list[str]:
    """Object and interface types in the order ``Query`` reaches them, then those only
    ``Mutation`` reaches, then any others by name."""
    catalogue = Catalogue.of(schema)
    leads: dict[str, list[str]] = {
        name: [
            get_named_type(f.type).name
            for f in getattr(schema.get_type(name), "fields", {}).values()
            if get_named_type(f.type).name in catalogue.fields
        ]
        for name in catalogue.fields
    }
    seen: dict[str, None] = {}
    for root in ("Query", "Mutation"):
        queue: list[str] = [root] if root in leads else []
        while queue:
            name = queue.pop(0)
            if name not in seen:
                seen[name] = None
                queue.extend(leads[name])
    return list(seen) + sorted(set(leads) - set(seen))


# What each mask makes of a value, short enough for a select (the page explains them all).
MASK_EXAMPLES = {
    "nullify": "always null",
    "last4": "*****6789",
    "year": "1985-01-01",
    "initial": "S.",
    "commune": "to 6 digits",
    "pseudonym": "ps_...",
    "match_only": "MATCH or MISMATCH",
}


def _choices(definition: GraphQLField, current: str) -> tuple[Choice, ...]:
    out = [Choice(HIDDEN, "hidden"), Choice(VISIBLE, "visible")]
    for name, mask in MASKS.items():
        if mask.check(definition.type) is None:
            example = MASK_EXAMPLES.get(name, mask.description)
            out.append(Choice(name, f"masked: {name} ({example})"))
    if current not in {c.value for c in out}:
        out.append(Choice(current, f"{current} (no longer valid for this field)"))
    return tuple(out)


def agreement_form(
    document: PolicyDocument,
    schema: GraphQLSchema,
    partner: str,
    purpose: str,
    *,
    submitted: Form | None = None,
    problems: Sequence[FormProblem] = (),
) -> AgreementForm:
    """The editor for one agreement; ``submitted`` values (a refused form) are shown again."""
    agreement = document.agreement(partner, purpose)
    if agreement is None:
        raise KeyError(f"no agreement for {partner} and {purpose}")
    given = submitted or {}

    def shown(control: str, value: str) -> str:
        found = last(given, control)
        return value if found is None else found

    catalogue = Catalogue.of(schema)
    verifications = document.verifications
    subjects = {name for names in document.subjects.values() for name in names}
    filters = {f.argument: f for f in document.filters}
    rows: list[TypeRow] = []
    for type_name in ordered_types(schema):
        type_ = schema.get_type(type_name)
        assert isinstance(type_, GraphQLObjectType | GraphQLInterfaceType)
        rules = agreement.fields.get(type_name, {})
        fields = []
        for field_name, definition in type_.fields.items():
            current = agreement.rule(type_name, field_name)
            named = get_named_type(definition.type)
            notes = []
            qualified = f"{type_name}.{field_name}"
            if qualified in subjects:
                notes.append("names whose data it is, in the access log")
            if qualified in verifications:
                notes.append("a verification: counts against the verification limits")
            arguments = []
            for argument, spec in definition.args.items():
                name = f"{type_name}.{field_name}({argument})"
                arguments.append(
                    _argument_row(name, argument, spec.type, agreement, document, filters, shown)
                )
            fields.append(
                FieldRow(
                    type_name=type_name,
                    name=field_name,
                    type_label=str(definition.type),
                    target=None if is_leaf_type(named) else named.name,
                    value=shown(f"{FIELD}{qualified}", current),
                    choices=_choices(definition, current),
                    arguments=tuple(arguments),
                    notes=tuple(notes),
                )
            )
        stale = tuple(
            StaleRow(
                f"{type_name}.{name}",
                f"{type_name}.{name} ({rule}) is no longer in the API schema",
                shown(f"{STALE}{type_name}.{name}", KEEP),
            )
            for name, rule in rules.items()
            if name != ALL_FIELDS and name not in type_.fields
        )
        rows.append(
            TypeRow(
                name=type_name,
                description=(type_.description or "").strip(),
                default=shown(DEFAULT + type_name, rules.get(ALL_FIELDS) or HIDDEN),
                fields=tuple(fields),
                stale=stale,
            )
        )
    inputs = []
    for input_name in sorted(catalogue.inputs):
        input_type = schema.get_type(input_name)
        assert isinstance(input_type, GraphQLInputObjectType)
        inputs.append(
            InputRow(
                input_name,
                tuple(
                    _argument_row(
                        f"{input_name}.{name}", name, spec.type, agreement, document, filters, shown
                    )
                    for name, spec in input_type.fields.items()
                ),
            )
        )
    stale_types = tuple(
        StaleRow(name, f"type {name} is no longer in the API schema", shown(STALE + name, KEEP))
        for name in agreement.fields
        if name not in catalogue.fields
    )
    stale_arguments = tuple(
        StaleRow(
            name,
            f"hidden argument {name} is no longer in the API schema",
            shown(STALE + name, KEEP),
        )
        for name in sorted(agreement.hidden_arguments)
        if not catalogue.has_argument(name)
    )
    areas = agreement.scope.areas
    chosen = set(given.get(AREA, ())) if AREA in given else set(areas or ())
    places = gazetteer()
    limits = tuple(
        LimitRow(
            name,
            LIMIT_LABELS.get(name, name),
            shown(LIMIT + name, limit_text(getattr(agreement.limits, name))),
            "the gateway's setting" if name in OPERATION_LIMITS else f"{getattr(Limits(), name):,}",
        )
        for name in vars(Limits())
    )
    mutations = next((r for r in rows if r.name == "Mutation"), None)
    by_control: dict[str, list[str]] = {}
    for problem in problems:
        by_control.setdefault(problem.control, []).append(problem.message)
    catalogue_purpose = document.purposes.get(purpose)
    return AgreementForm(
        partner=partner,
        purpose=purpose,
        purpose_legal_basis=catalogue_purpose.legal_basis if catalogue_purpose else "",
        types=tuple(r for r in rows if r.name != "Mutation"),
        mutations=mutations,
        inputs=tuple(inputs),
        stale_types=stale_types,
        stale_arguments=stale_arguments,
        scope=shown(SCOPE, EVERYONE if areas is None else AREAS),
        areas=tuple(_area_row(places, code, chosen) for code in places.provinces),
        unknown_areas=tuple(
            AreaRow(code, "unknown", places.describe(code), code in chosen, False, False)
            for code in sorted(set(areas or ()) - set(places.areas))
        ),
        own_registrations=shown(OWN, YES if agreement.scope.own_registrations else NO),
        limits=limits,
        texts={name: shown(name, text_of(agreement, name)) for name in TEXTS},
        trusted_documents=shown(TRUSTED, agreement.trusted_documents),
        digest=shown(DIGEST, document.digest()),
        problems={k: tuple(v) for k, v in by_control.items()},
    )


def _argument_row(
    name: str,
    label: str,
    type_: object,
    agreement: Agreement,
    document: PolicyDocument,
    filters: Mapping[str, Filter],
    shown: Callable[[str, str], str],
) -> ArgumentRow:
    fixed = (
        "filled from the partner's credentials, never from the request"
        if name in document.from_credentials
        else None
    )
    needs = filters.get(name)
    note = None
    if needs is not None:
        note = f"usable only while {needs.field} is visible" + (
            f" (or masked {' or '.join(needs.allows)})" if needs.allows else ""
        )
    value = shown(ARGUMENT + name, HIDDEN if name in agreement.hidden_arguments else USABLE)
    return ArgumentRow(
        name=name,
        label=label,
        type_label=str(type_),
        required=isinstance(type_, GraphQLNonNull),
        value=HIDDEN if fixed else value,
        fixed=fixed,
        needs=note,
    )


def _area_row(places: Gazetteer, code: str, chosen: set[str]) -> AreaRow:
    area = places.areas[code]
    children = tuple(_area_row(places, child, chosen) for child in area.children)
    return AreaRow(
        code=code,
        level=area.level,
        label=area.label,
        checked=code in chosen,
        covered=places.covered(code, chosen),
        open=any(c.checked or c.open for c in children),
        children=children,
    )


def form_values(form: AgreementForm) -> dict[str, list[str]]:
    """What a browser sends for ``form`` when nothing in it is touched."""
    out: dict[str, list[str]] = {DIGEST: [form.digest], SCOPE: [form.scope]}
    for row in form.all_types():
        out[row.control] = [row.default]
        for f in row.fields:
            out[f.control] = [f.value]
            for argument in f.arguments:
                if argument.fixed is None:
                    out[argument.control] = _checkbox(HIDDEN, USABLE, argument.value == USABLE)
        for stale in row.stale:
            out[stale.control] = _checkbox(KEEP, REMOVE, stale.value == REMOVE)
    for input_row in form.inputs:
        for argument in input_row.fields:
            if argument.fixed is None:
                out[argument.control] = _checkbox(HIDDEN, USABLE, argument.value == USABLE)
    for stale in form.stale_types + form.stale_arguments:
        out[stale.control] = _checkbox(KEEP, REMOVE, stale.value == REMOVE)
    out[AREA] = sorted(_checked(form.areas) + [a.code for a in form.unknown_areas if a.checked])
    out[OWN] = _checkbox(NO, YES, form.own_registrations == YES)
    for limit in form.limits:
        out[limit.control] = [limit.value]
    for name, value in form.texts.items():
        out[name] = [value]
    out[TRUSTED] = [form.trusted_documents]
    return out


def _checkbox(off: str, on: str, checked: bool) -> list[str]:
    return [off, on] if checked else [off]


def _checked(rows: Iterable[AreaRow]) -> list[str]:
    out: list[str] = []
    for row in rows:
        if row.checked:
            out.append(row.code)
        out.extend(_checked(row.children))
    return out
