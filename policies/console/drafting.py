"""The agreement editor's model: one agreement of a policy document as the editor shows it,
and a submitted form applied back to the document.

For one agreement (a partner and a purpose) the editor shows the API schema as a tree of types —
``Query`` first, then each type in the order ``Query`` reaches it, each object field linking
to its type — with, for every field, its rule (hidden, visible, or one of the masks that keep
the field's type valid), the field's arguments, the mutations, the input fields, the row
scope (gazetteer areas, the partner's own registrations), the limits, the validity dates
and the legal basis.

Applying a form gives a new document or problems, each naming its control. A control whose
submitted value is what the editor showed changes nothing: an untouched form gives back the
very document it came from, and changing one field's rule changes that rule alone. No I/O.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

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
from policies.document import PolicyFileError, read_stored
from policies.masks import MASKS
from policies.model import (
    ALL_FIELDS,
    HIDDEN,
    OPERATION_LIMITS,
    TRUSTED_DOCUMENTS,
    VISIBLE,
    Agreement,
    Filter,
    Limits,
    PolicyDocument,
    Purpose,
    RowScopeRule,
)

Form = Mapping[str, Sequence[str]]

# Control names. A checkbox is sent after a hidden input of the same name holding its
# "unchecked" value, so the last value is the one that counts and an absent control (a
# truncated post) changes nothing.
FIELD = "field:"  # field:Type.name -> hidden | visible | a mask
DEFAULT = "default:"  # default:Type -> the rule of fields the agreement does not list
ARGUMENT = "arg:"  # arg:Type.field(argument) or arg:Input.field -> usable | hidden
STALE = "stale:"  # stale:<name> -> keep | remove, for names the schema no longer has
LIMIT = "limit:"  # limit:<Limits field> -> a whole number, blank for the default
SCOPE = "scope"  # everyone | areas
AREA = "area"  # the chosen gazetteer codes (several values)
OWN = "own_registrations"  # no | yes
DIGEST = "digest"  # the document's digest when the form was shown
TEXTS = ("valid_from", "valid_until", "legal_basis", "programmes", "scopes", "policies")
TRUSTED = "trusted_documents"
_PREFIXES = (FIELD, DEFAULT, ARGUMENT, STALE, LIMIT)

USABLE = "usable"
KEEP = "keep"
REMOVE = "remove"
EVERYONE = "everyone"
AREAS = "areas"
YES = "yes"
NO = "no"

MAX_LIMIT = 1_000_000_000
MAX_TEXT = 500
_CODE = re.compile(r"^[a-z][a-z0-9-]{1,63}$")  # a partner code (policies.repository)
_PURPOSE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_PROGRAMME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_GRANT = re.compile(r"^[A-Za-z0-9_:./-]{1,100}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

LIMIT_LABELS = {
    "max_people_per_request": "People per request",
    "requests_per_minute": "Requests a minute",
    "requests_per_minute_per_end_user": "Requests a minute for each end user",
    "verifications_per_request": "Verifications per request",
    "verifications_per_minute": "Verifications a minute",
    "max_depth": "Operation depth",
    "max_aliases": "Aliases per operation",
    "max_root_fields": "Root fields per operation",
    "max_tokens": "Tokens per operation",
    "max_cost": "Estimated cost per operation",
}


# -- what the editor shows ------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class ArgumentRow:
    """An argument of a field (``Type.field(argument)``) or an input field (``Input.field``)."""

    name: str
    label: str
    type_label: str
    required: bool
    value: str  # usable | hidden, as shown
    fixed: str | None = None  # why no one may choose it
    needs: str | None = None  # the field it filters by, when it is a filter

    @property
    def control(self) -> str:
        return ARGUMENT + self.name


@dataclass(frozen=True)
class FieldRow:
    """One field of a type: its rule as shown and the rules it may have."""

    type_name: str
    name: str
    type_label: str
    target: str | None  # the object type it leads to, for a link
    value: str
    choices: tuple[Choice, ...]
    arguments: tuple[ArgumentRow, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def control(self) -> str:
        return f"{FIELD}{self.type_name}.{self.name}"

    @property
    def qualified(self) -> str:
        return f"{self.type_name}.{self.name}"


@dataclass(frozen=True)
class StaleRow:
    """A name the agreement holds that the API schema no longer has."""

    name: str
    what: str
    value: str = KEEP

    @property
    def control(self) -> str:
        return STALE + self.name


@dataclass(frozen=True)
class TypeRow:
    """An object type with its fields, and the rule of fields the agreement does not list."""

    name: str
    description: str
    default: str
    fields: tuple[FieldRow, ...]
    stale: tuple[StaleRow, ...] = ()

    @property
    def control(self) -> str:
        return DEFAULT + self.name

    @property
    def granted(self) -> int:
        return sum(1 for f in self.fields if f.value != HIDDEN)


@dataclass(frozen=True)
class InputRow:
    name: str
    fields: tuple[ArgumentRow, ...]


@dataclass(frozen=True)
class AreaRow:
    """An area of the scope picker: chosen, covered by a chosen area, or neither."""

    code: str
    level: str
    label: str
    checked: bool
    covered: bool
    open: bool  # it holds a chosen area: shown unfolded
    children: tuple[AreaRow, ...] = ()


@dataclass(frozen=True)
class LimitRow:
    name: str
    label: str
    value: str
    default: str  # what a blank value means

    @property
    def control(self) -> str:
        return LIMIT + self.name


@dataclass(frozen=True)
class AgreementForm:
    """Everything the agreement editor shows, with the values to show in each control."""

    partner: str
    purpose: str
    purpose_legal_basis: str
    types: tuple[TypeRow, ...]
    mutations: TypeRow | None
    inputs: tuple[InputRow, ...]
    stale_types: tuple[StaleRow, ...]
    stale_arguments: tuple[StaleRow, ...]
    scope: str
    areas: tuple[AreaRow, ...]
    unknown_areas: tuple[AreaRow, ...]
    own_registrations: str
    limits: tuple[LimitRow, ...]
    texts: Mapping[str, str]
    trusted_documents: str
    digest: str
    problems: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def all_types(self) -> tuple[TypeRow, ...]:
        return self.types + ((self.mutations,) if self.mutations else ())


@dataclass(frozen=True)
class FormProblem:
    """What is wrong with one control's value; ``message`` names the field it is about."""

    control: str
    message: str


@dataclass(frozen=True)
class Applied:
    """A new document, or the problems that kept the form from being applied."""

    document: PolicyDocument | None
    problems: tuple[FormProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.document is not None


def _last(form: Form, control: str) -> str | None:
    values = form.get(control)
    if not values:
        return None
    return str(values[-1])


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


def _choices(definition: GraphQLField, current: str) -> tuple[Choice, ...]:
    out = [Choice(HIDDEN, "hidden"), Choice(VISIBLE, "visible")]
    for name, mask in MASKS.items():
        if mask.check(definition.type) is None:
            out.append(Choice(name, f"masked: {name} ({mask.description})"))
    if current not in {c.value for c in out}:
        out.append(Choice(current, f"{current} (no longer valid for this field)"))
    return tuple(out)


def _rule(rules: Mapping[str, str], name: str) -> str:
    return rules.get(name) or rules.get(ALL_FIELDS) or HIDDEN


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
        found = _last(given, control)
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
            shown(LIMIT + name, _limit_text(getattr(agreement.limits, name))),
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
        texts={name: shown(name, _text_of(agreement, name)) for name in TEXTS},
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


def _limit_text(value: int | None) -> str:
    return "" if value is None else str(value)


def _text_of(agreement: Agreement, name: str) -> str:
    value = getattr(agreement, name)
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    return ", ".join(sorted(value) if isinstance(value, frozenset) else value)


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


# -- applying a form --------------------------------------------------------------------------


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
        return _refused(
            "agreement",
            f"this draft has no agreement for {partner} and {purpose}; add one first",
        )
    digest = _last(form, DIGEST)
    if digest is not None and digest != document.digest():
        return _refused(
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
    trusted = _last(form, TRUSTED)
    if trusted is not None and trusted not in TRUSTED_DOCUMENTS:
        problems.append(
            FormProblem(TRUSTED, f"Trusted documents is {' or '.join(TRUSTED_DOCUMENTS)}")
        )
        trusted = None
    for control in form:
        if control.startswith(_PREFIXES) and control not in used:
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
    return _checked_document(
        replace(
            document,
            agreements=tuple(changed if a is agreement else a for a in document.agreements),
        )
    )


def _refused(control: str, message: str) -> Applied:
    return Applied(None, (FormProblem(control, message),))


def _checked_document(candidate: PolicyDocument) -> Applied:
    """``candidate`` if the policy reader accepts its stored form, else its problems."""
    try:
        read_stored(candidate.to_json())
    except PolicyFileError as error:
        return Applied(None, tuple(FormProblem("agreement", p.message) for p in error.problems))
    return Applied(candidate)


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
        wanted_default = _last(form, control)
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
            wanted = _last(form, control)
            if wanted is None:
                continue
            used.add(control)
            effective = _rule(rules, field_name)
            if wanted == effective:
                continue
            problem = _rule_problem(wanted, definitions[field_name], _rule(original, field_name))
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
                wanted = _last(form, control)
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
            wanted = _last(form, control)
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
        wanted = _last(form, control)
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
            wanted = _last(form, control)
            if wanted is not None:
                used.add(control)
            if wanted == REMOVE:
                hidden.discard(name)
    found = frozenset(hidden)
    return agreement.hidden_arguments if found == agreement.hidden_arguments else found


def _apply_scope(agreement: Agreement, form: Form, problems: list[FormProblem]) -> RowScopeRule:
    scope = agreement.scope
    areas = scope.areas
    mode = _last(form, SCOPE)
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
    wanted = _last(form, OWN)
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
        raw = _last(form, control)
        if raw is None:
            continue
        used.add(control)
        current = getattr(agreement.limits, name)
        text = raw.strip()
        if text == _limit_text(current):
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
    raw = _last(form, name)
    if raw is None:
        return current
    text = raw.strip()
    if text == (current.isoformat() if current else ""):
        return current
    if not text:
        return None
    label = name.replace("_", " ").capitalize()
    try:
        if not _DATE.match(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(FormProblem(name, f"{label}: a date written YYYY-MM-DD; got {text[:20]!r}"))
        return current


def clean_text(value: str, label: str, control: str, problems: list[FormProblem]) -> str:
    """``value`` stripped, refused (a problem) when too long or holding control characters."""
    text = value.strip()
    if len(text) > MAX_TEXT:
        problems.append(FormProblem(control, f"{label}: at most {MAX_TEXT} characters"))
    elif any(unicodedata.category(c) == "Cc" for c in text):
        problems.append(FormProblem(control, f"{label}: no control characters (tabs, line breaks)"))
    return text


def _apply_text(
    form: Form, name: str, current: str | None, problems: list[FormProblem]
) -> str | None:
    raw = _last(form, name)
    if raw is None or raw.strip() == (current or ""):
        return current
    text = clean_text(raw, name.replace("_", " ").capitalize(), name, problems)
    return text or None


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[\s,]+", text.strip()) if t]


def _apply_programmes(
    form: Form, current: tuple[str, ...] | None, problems: list[FormProblem]
) -> tuple[str, ...] | None:
    raw = _last(form, "programmes")
    if raw is None or raw.strip() == ", ".join(current or ()):
        return current
    tokens = _tokens(raw)
    wrong = [t for t in tokens if not _PROGRAMME.match(t)]
    if wrong:
        problems.append(
            FormProblem(
                "programmes",
                f"Programmes: {wrong[0][:30]!r} is not a programme code (lower-case letters, "
                "digits and _, such as health_care)",
            )
        )
        return current
    return tuple(dict.fromkeys(tokens)) or None


def _apply_grants(
    form: Form, name: str, current: frozenset[str], problems: list[FormProblem]
) -> frozenset[str]:
    raw = _last(form, name)
    if raw is None or raw.strip() == ", ".join(sorted(current)):
        return current
    tokens = _tokens(raw)
    wrong = [t for t in tokens if not _GRANT.match(t)]
    if wrong:
        problems.append(
            FormProblem(
                name,
                f"{name.capitalize()}: {wrong[0][:30]!r} is not a name such as read:payments",
            )
        )
        return current
    found = frozenset(tokens)
    return current if found == current else found


# -- agreements, purposes and guardrails ----------------------------------------------------


def add_agreement(
    document: PolicyDocument,
    partner: str,
    purpose: str,
    *,
    copy_of: tuple[str, str] | None = None,
) -> Applied:
    """A new agreement that shows nothing yet, or a copy of another one's rules."""
    partner = partner.strip()
    purpose = purpose.strip()
    if not _CODE.match(partner):
        return _refused("partner", f"{partner[:64]!r} is not a partner code (such as ngo-cash)")
    if purpose not in document.purposes:
        return _refused(
            "purpose",
            f"{purpose[:64]!r} is not in the purposes catalogue "
            f"({', '.join(sorted(document.purposes))}); add the purpose first",
        )
    if document.agreement(partner, purpose) is not None:
        return _refused("purpose", f"{partner} already has an agreement for {purpose}")
    if copy_of is not None:
        source = document.agreement(*copy_of)
        if source is None:
            return _refused("copy_of", f"there is no agreement {copy_of[0]}/{copy_of[1]} to copy")
        new = replace(source, partner=partner, purpose=purpose)
    else:
        new = Agreement(partner=partner, purpose=purpose, fields={})
    return _checked_document(replace(document, agreements=(*document.agreements, new)))


def remove_agreement(document: PolicyDocument, partner: str, purpose: str) -> Applied:
    """The document without the agreement of ``partner`` for ``purpose``."""
    if document.agreement(partner, purpose) is None:
        return _refused("agreement", f"this draft has no agreement for {partner} and {purpose}")
    kept = tuple(a for a in document.agreements if (a.partner, a.purpose) != (partner, purpose))
    return _checked_document(replace(document, agreements=kept))


def set_purpose(document: PolicyDocument, code: str, description: str, legal_basis: str) -> Applied:
    """The document with this purpose added to the catalogue, or changed there."""
    problems: list[FormProblem] = []
    code = code.strip()
    if not _PURPOSE.match(code):
        problems.append(
            FormProblem("code", f"{code[:64]!r}: lower-case letters, digits, _ or - (statistics)")
        )
    text = clean_text(description, "Description", "description", problems)
    basis = clean_text(legal_basis, "Legal basis", "legal_basis", problems)
    if not basis:
        problems.append(FormProblem("legal_basis", "Legal basis: every purpose names its law"))
    if problems:
        return Applied(None, tuple(problems))
    purposes = {**document.purposes, code: Purpose(code, text, basis)}
    return _checked_document(replace(document, purposes=purposes))


def remove_purpose(document: PolicyDocument, code: str) -> Applied:
    users = [a.partner for a in document.agreements if a.purpose == code]
    if users:
        return _refused(
            "code", f"{code} is the purpose of agreements with {', '.join(users)}; remove those"
        )
    if code not in document.purposes:
        return _refused("code", f"{code!r} is not in the purposes catalogue")
    purposes = {k: v for k, v in document.purposes.items() if k != code}
    return _checked_document(replace(document, purposes=purposes))


def set_guardrails(document: PolicyDocument, text: str) -> Applied:
    """The document with these guardrails (Cedar text; the Check validates them)."""
    cleaned = text.replace("\r\n", "\n")
    if "\x00" in cleaned:
        return _refused("guardrails", "Guardrails: no NUL characters")
    return _checked_document(replace(document, guardrails=cleaned))


# -- the agreements of a draft at a glance ---------------------------------------------------


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
