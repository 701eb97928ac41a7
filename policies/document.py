"""The policy document: purposes, agreements, guardrails, as a file kept in git or a version.

A policy file is YAML (format ``tonle-policy/1``, documented in docs/policies.md). Reading
one gives a :class:`PolicyDocument` or a :class:`PolicyFileError` listing every problem
with its file and line. A version stores the document's canonical JSON; the same JSON
always gives the same digest, so two versions with one content are known to be equal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson
import yaml

from policies.errors import PolicyError
from policies.masks import MASKS

FORMAT = "tonle-policy/1"
# The kinds of subject the access log records (policies.audit's PERSON and HOUSEHOLD).
SUBJECT_KINDS = ("person", "household")
VISIBLE = "visible"
HIDDEN = "hidden"
ALL_FIELDS = "*"

_CODE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")
# Type.field(argument) or Input.field
_ARGUMENT = re.compile(r"^([_A-Za-z]\w*)\.([_A-Za-z]\w*)(?:\(([_A-Za-z]\w*)\))?$")
_AREA = re.compile(r"^\d{2}(\d{2}(\d{2})?)?$")

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a policy: where (file and line, when known) and what."""

    message: str
    line: int | None = None
    file: str | None = None

    def __str__(self) -> str:
        where = self.file or "policy"
        if self.line is not None:
            where += f":{self.line}"
        return f"{where}: {self.message}"


class PolicyFileError(PolicyError):
    """A policy that cannot be used, with every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Purpose:
    """Why a request is made, and the law that allows it."""

    code: str
    description: str
    legal_basis: str


@dataclass(frozen=True)
class RowScopeRule:
    """Which people an agreement reaches: areas (gazetteer codes), own registrations, both."""

    areas: tuple[str, ...] | None = None
    own_registrations: bool = False


@dataclass(frozen=True)
class Limits:
    """How much one partner may ask for, per request and per minute; safe by default."""

    max_people_per_request: int = 1000
    requests_per_minute: int = 600
    verifications_per_request: int = 10
    verifications_per_minute: int = 100


@dataclass(frozen=True)
class Agreement:
    """What one partner may do for one purpose."""

    partner: str
    purpose: str
    # type -> field (or "*") -> "visible" | "hidden" | a mask name
    fields: Mapping[str, Mapping[str, str]]
    hidden_arguments: frozenset[str] = frozenset()
    programmes: tuple[str, ...] | None = None
    scope: RowScopeRule = RowScopeRule()
    limits: Limits = Limits()
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    legal_basis: str | None = None
    scopes: frozenset[str] = frozenset()
    policies: frozenset[str] = frozenset()

    def rule(self, type_name: str, field_name: str) -> str:
        """``visible``, ``hidden`` or a mask name for one field (hidden by default)."""
        rules = self.fields.get(type_name)
        if rules is None:
            return HIDDEN
        return rules.get(field_name) or rules.get(ALL_FIELDS) or HIDDEN

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True)
class Filter:
    """An argument that filters by a field: usable only where the field is visible enough."""

    argument: str  # Type.field(argument) or Input.field
    field: str  # Type.field
    allows: tuple[str, ...] = ()  # masks that still reveal enough to filter by


@dataclass(frozen=True)
class PolicyDocument:
    """Purposes, agreements and guardrails, plus the schema facts the rules rely on."""

    purposes: Mapping[str, Purpose]
    agreements: tuple[Agreement, ...]
    guardrails: str = ""
    filters: tuple[Filter, ...] = ()
    from_credentials: frozenset[str] = frozenset()
    # access-log kind ("person", "household") -> the "Type.key" fields that name one
    subjects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    verifications: frozenset[str] = frozenset()
    # Where each part was written (path -> line), for messages; not part of the content.
    lines: Mapping[Path, int] = field(default_factory=dict, compare=False, repr=False)
    file: str | None = field(default=None, compare=False, repr=False)

    def subject_keys(self) -> dict[str, str]:
        """Type -> the field whose value names the person or household it is about."""
        return {
            name.partition(".")[0]: name.partition(".")[2]
            for names in self.subjects.values()
            for name in names
        }

    def subject_kinds(self) -> dict[str, str]:
        """Type -> its access-log kind."""
        return {
            name.partition(".")[0]: kind for kind, names in self.subjects.items() for name in names
        }

    def agreement(self, partner: str, purpose: str) -> Agreement | None:
        return self._by_pair.get((partner, purpose))

    @cached_property
    def _by_pair(self) -> dict[tuple[str, str], Agreement]:
        return {(a.partner, a.purpose): a for a in self.agreements}

    def purposes_of(self, partner: str) -> list[str]:
        return sorted({a.purpose for a in self.agreements if a.partner == partner})

    def line_of(self, *path: str | int) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def problem(self, message: str, *path: str | int) -> Problem:
        return Problem(message, self.line_of(*path), self.file)

    # -- canonical form ------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The canonical JSON form, as a version stores it."""
        return {
            "format": FORMAT,
            "purposes": {
                code: {"description": p.description, "legal_basis": p.legal_basis}
                for code, p in sorted(self.purposes.items())
            },
            "subjects": {kind: sorted(names) for kind, names in sorted(self.subjects.items())},
            "verifications": sorted(self.verifications),
            "from_credentials": sorted(self.from_credentials),
            "filters": [
                {"argument": f.argument, "field": f.field, "allows": list(f.allows)}
                for f in self.filters
            ],
            "guardrails": self.guardrails,
            "agreements": [_agreement_json(a) for a in self.agreements],
        }

    def digest(self) -> str:
        return hashlib.sha256(orjson.dumps(self.to_json(), option=orjson.OPT_SORT_KEYS)).hexdigest()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PolicyDocument:
        """A stored version's document (already checked when it was stored)."""
        return _read(dict(data), {}, None)

    def to_yaml(self) -> str:
        """A policy file with this content (comments are not kept: versions keep the source)."""
        data = self.to_json()
        data["agreements"] = [_agreement_yaml(a) for a in data["agreements"]]
        return yaml.dump(data, sort_keys=False, allow_unicode=True, width=100)


def _agreement_json(a: Agreement) -> dict[str, Any]:
    return {
        "partner": a.partner,
        "purpose": a.purpose,
        "valid_from": a.valid_from.isoformat() if a.valid_from else None,
        "valid_until": a.valid_until.isoformat() if a.valid_until else None,
        "legal_basis": a.legal_basis,
        "fields": {t: dict(sorted(rules.items())) for t, rules in sorted(a.fields.items())},
        "hidden_arguments": sorted(a.hidden_arguments),
        "programmes": list(a.programmes) if a.programmes is not None else None,
        "scope": {
            "areas": list(a.scope.areas) if a.scope.areas is not None else None,
            "own_registrations": a.scope.own_registrations,
        },
        "limits": {
            "max_people_per_request": a.limits.max_people_per_request,
            "requests_per_minute": a.limits.requests_per_minute,
            "verifications_per_request": a.limits.verifications_per_request,
            "verifications_per_minute": a.limits.verifications_per_minute,
        },
        "scopes": sorted(a.scopes),
        "policies": sorted(a.policies),
    }


def _agreement_yaml(data: dict[str, Any]) -> dict[str, Any]:
    """Leave out what is empty or default, so an exported file reads like a written one."""
    out = {k: v for k, v in data.items() if v not in (None, [], {})}
    scope = {k: v for k, v in data["scope"].items() if v not in (None, False)}
    if scope:
        out["scope"] = scope
    else:
        out.pop("scope", None)
    return out


# -- reading a file ----------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, leaving dates as text: an impossible date is then a problem
    with a line, not an exception from the middle of the parser."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_policy(text: str, file: str | None = None) -> PolicyDocument:
    """Read a policy file; raise :class:`PolicyFileError` naming every problem and its line."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        reason = getattr(error, "problem", None) or "not valid YAML"
        raise PolicyFileError(
            [Problem(f"{reason} (fix the YAML syntax)", mark.line + 1 if mark else None, file)]
        ) from None
    if node is None or not isinstance(data, dict):
        raise PolicyFileError(
            [Problem(f"a policy file is a YAML mapping starting with 'format: {FORMAT}'", 1, file)]
        )
    lines: dict[Path, int] = {}
    problems: list[Problem] = []
    _note_lines(node, (), lines, problems, file)
    if problems:
        raise PolicyFileError(problems)
    return _read(data, lines, file)


def _note_lines(
    node: yaml.Node, path: Path, lines: dict[Path, int], problems: list[Problem], file: str | None
) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                problems.append(
                    Problem(f"'{name}' is given twice; keep one", key.start_mark.line + 1, file)
                )
            seen.add(name)
            _note_lines(value, (*path, name), lines, problems, file)
            # A key's own line names it better than where its value starts.
            lines[(*path, name)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _note_lines(item, (*path, index), lines, problems, file)


class _Reader:
    """Turns parsed YAML (or stored JSON) into the model, collecting problems with lines."""

    def __init__(self, lines: Mapping[Path, int], file: str | None) -> None:
        self.lines = lines
        self.file = file
        self.problems: list[Problem] = []

    def fail(self, message: str, *path: str | int) -> None:
        line = None
        while path:
            if path in self.lines:
                line = self.lines[path]
                break
            path = path[:-1]
        self.problems.append(Problem(message, line, self.file))

    def mapping(self, value: Any, *path: str | int) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(f"{_where(path)} must be a mapping (key: value lines)", *path)
            return {}
        return {str(k): v for k, v in value.items()}

    def sequence(self, value: Any, *path: str | int) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(f"{_where(path)} must be a list", *path)
            return []
        return value

    def text(self, value: Any, *path: str | int, required: bool = True) -> str | None:
        if value is None:
            if required:
                self.fail(f"{_where(path)} is missing", *path)
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.fail(f"{_where(path)} must be text", *path)
            return None
        return str(value)

    def date(self, value: Any, *path: str | int) -> dt.date | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{_where(path)} must be a date written YYYY-MM-DD; got {value!r}", *path)
            return None

    def count(self, value: Any, default: int, *path: str | int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(f"{_where(path)} must be a whole number, 0 or more; got {value!r}", *path)
            return default
        return value

    def unknown_keys(self, data: Mapping[str, Any], allowed: set[str], *path: str | int) -> None:
        for key in data:
            if key not in allowed:
                self.fail(
                    f"unknown key '{key}' in {_where(path) or 'the file'}; "
                    f"the keys are {', '.join(sorted(allowed))}",
                    *path,
                    key,
                )


def _where(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[")


_TOP = {
    "format",
    "purposes",
    "subjects",
    "verifications",
    "from_credentials",
    "filters",
    "guardrails",
    "agreements",
}
_AGREEMENT = {
    "partner",
    "purpose",
    "valid_from",
    "valid_until",
    "legal_basis",
    "fields",
    "hidden_arguments",
    "programmes",
    "scope",
    "limits",
    "scopes",
    "policies",
}


def _read(data: dict[str, Any], lines: Mapping[Path, int], file: str | None) -> PolicyDocument:
    r = _Reader(lines, file)
    r.unknown_keys(data, _TOP)
    if data.get("format") != FORMAT:
        r.fail(f"the file must start with 'format: {FORMAT}'", "format")
    purposes: dict[str, Purpose] = {}
    for code, body in r.mapping(data.get("purposes"), "purposes").items():
        item = r.mapping(body, "purposes", code)
        r.unknown_keys(item, {"description", "legal_basis"}, "purposes", code)
        if not _CODE.match(code):
            r.fail(f"purpose code '{code}' must be lower case letters, digits, _ or -", "purposes")
        purposes[code] = Purpose(
            code,
            r.text(item.get("description"), "purposes", code, "description") or "",
            r.text(item.get("legal_basis"), "purposes", code, "legal_basis") or "",
        )
    if not purposes:
        r.fail("the policy declares no purposes; add a 'purposes:' catalogue", "purposes")

    subjects: dict[str, tuple[str, ...]] = {}
    for kind, names in r.mapping(data.get("subjects"), "subjects").items():
        if kind not in SUBJECT_KINDS:
            r.fail(
                f"subject kind '{kind}' is not one the access log records "
                f"({', '.join(SUBJECT_KINDS)})",
                "subjects",
                kind,
            )
        subjects[kind] = tuple(
            _field_name(r, v, "subjects", kind, i)
            for i, v in enumerate(r.sequence(names, "subjects", kind))
        )

    verifications = frozenset(
        _field_name(r, v, "verifications", i)
        for i, v in enumerate(r.sequence(data.get("verifications"), "verifications"))
    )
    from_credentials = frozenset(
        _argument_name(r, v, "from_credentials", i)
        for i, v in enumerate(r.sequence(data.get("from_credentials"), "from_credentials"))
    )
    filters = []
    for i, item in enumerate(r.sequence(data.get("filters"), "filters")):
        body = r.mapping(item, "filters", i)
        r.unknown_keys(body, {"argument", "field", "allows"}, "filters", i)
        allows = tuple(str(m) for m in r.sequence(body.get("allows"), "filters", i, "allows"))
        for mask in allows:
            if mask not in MASKS:
                r.fail(f"unknown mask '{mask}'; masks: {', '.join(MASKS)}", "filters", i)
        filters.append(
            Filter(
                _argument_name(r, body.get("argument"), "filters", i, "argument"),
                _field_name(r, body.get("field"), "filters", i, "field"),
                allows,
            )
        )
    guardrails = data.get("guardrails") or ""
    if not isinstance(guardrails, str):
        r.fail("guardrails must be Cedar policies written as one text block ('|')", "guardrails")
        guardrails = ""

    agreements: list[Agreement] = []
    seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(r.sequence(data.get("agreements"), "agreements")):
        agreement = _agreement(r, r.mapping(item, "agreements", index), index, purposes)
        if agreement is None:
            continue
        pair = (agreement.partner, agreement.purpose)
        if pair in seen:
            r.fail(
                f"a second agreement for partner '{pair[0]}' and purpose '{pair[1]}' "
                f"(the first is agreements[{seen[pair]}]); merge them into one",
                "agreements",
                index,
            )
        seen[pair] = index
        agreements.append(agreement)
    if r.problems:
        raise PolicyFileError(r.problems)
    return PolicyDocument(
        purposes=purposes,
        agreements=tuple(agreements),
        guardrails=guardrails,
        filters=tuple(filters),
        from_credentials=from_credentials,
        subjects=subjects,
        verifications=verifications,
        lines=dict(lines),
        file=file,
    )


def _field_name(r: _Reader, value: Any, *path: str | int) -> str:
    text = r.text(value, *path) or ""
    found = _ARGUMENT.match(text)
    if text and (found is None or found.group(3) is not None):
        r.fail(f"'{text}' is not a field name written Type.field", *path)
    return text


def _argument_name(r: _Reader, value: Any, *path: str | int) -> str:
    text = r.text(value, *path) or ""
    if text and _ARGUMENT.match(text) is None:
        r.fail(
            f"'{text}' is not an argument written Type.field(argument) or an input field "
            "written Input.field",
            *path,
        )
    return text


def _agreement(
    r: _Reader, data: dict[str, Any], index: int, purposes: Mapping[str, Purpose]
) -> Agreement | None:
    at: tuple[str | int, ...] = ("agreements", index)
    r.unknown_keys(data, _AGREEMENT, *at)
    partner = r.text(data.get("partner"), *at, "partner")
    purpose = r.text(data.get("purpose"), *at, "purpose")
    if partner is None or purpose is None:
        return None
    if purpose not in purposes:
        r.fail(
            f"purpose '{purpose}' is not in the purposes catalogue "
            f"({', '.join(sorted(purposes)) or 'empty'}); add it there first",
            *at,
            "purpose",
        )
    fields: dict[str, dict[str, str]] = {}
    for type_name, rules in r.mapping(data.get("fields"), *at, "fields").items():
        where = (*at, "fields", type_name)
        if not _NAME.match(type_name):
            r.fail(f"'{type_name}' is not a type name", *where)
            continue
        fields[type_name] = _rules(r, rules, where)
    scope_data = r.mapping(data.get("scope"), *at, "scope")
    r.unknown_keys(scope_data, {"areas", "own_registrations"}, *at, "scope")
    areas = None
    if scope_data.get("areas") is not None:
        areas = tuple(str(a) for a in r.sequence(scope_data.get("areas"), *at, "scope", "areas"))
        for area in areas:
            if not _AREA.match(area):
                r.fail(
                    f"area '{area}' is not a province (2 digits), district (4) or commune (6) "
                    "code of the gazetteer; quote codes that start with 0",
                    *at,
                    "scope",
                    "areas",
                )
    own = scope_data.get("own_registrations", False)
    if not isinstance(own, bool):
        r.fail("own_registrations is true or false", *at, "scope", "own_registrations")
        own = False
    limit_data = r.mapping(data.get("limits"), *at, "limits")
    defaults = Limits()
    r.unknown_keys(limit_data, set(vars(defaults)), *at, "limits")
    limits = Limits(
        **{
            name: r.count(limit_data.get(name), getattr(defaults, name), *at, "limits", name)
            for name in vars(defaults)
        }
    )
    valid_from = r.date(data.get("valid_from"), *at, "valid_from")
    valid_until = r.date(data.get("valid_until"), *at, "valid_until")
    if valid_from and valid_until and valid_until < valid_from:
        r.fail("valid_until is before valid_from", *at, "valid_until")
    programmes = data.get("programmes")
    return Agreement(
        partner=partner,
        purpose=purpose,
        fields=fields,
        hidden_arguments=frozenset(
            _argument_name(r, v, *at, "hidden_arguments", i)
            for i, v in enumerate(r.sequence(data.get("hidden_arguments"), *at, "hidden_arguments"))
        ),
        programmes=tuple(str(p) for p in r.sequence(programmes, *at, "programmes"))
        if programmes is not None
        else None,
        scope=RowScopeRule(areas, own),
        limits=limits,
        valid_from=valid_from,
        valid_until=valid_until,
        legal_basis=r.text(data.get("legal_basis"), *at, "legal_basis", required=False),
        scopes=frozenset(str(s) for s in r.sequence(data.get("scopes"), *at, "scopes")),
        policies=frozenset(str(p) for p in r.sequence(data.get("policies"), *at, "policies")),
    )


def _rules(r: _Reader, rules: Any, where: tuple[str | int, ...]) -> dict[str, str]:
    """``"*"``, a list of visible fields, or a mapping field -> visible | hidden | mask."""
    if rules in (ALL_FIELDS, VISIBLE):
        return {ALL_FIELDS: VISIBLE}
    if isinstance(rules, list):
        out = {}
        for i, name in enumerate(rules):
            if not isinstance(name, str) or not (_NAME.match(name) or name == ALL_FIELDS):
                r.fail(f"'{name}' is not a field name", *where, i)
                continue
            out[name] = VISIBLE
        return out
    out = {}
    for name, rule in r.mapping(rules, *where).items():
        if not (_NAME.match(name) or name == ALL_FIELDS):
            r.fail(f"'{name}' is not a field name", *where, name)
            continue
        text = str(rule)
        if text not in (VISIBLE, HIDDEN) and text not in MASKS:
            r.fail(
                f"'{text}' for {where[-1]}.{name} is not visible, hidden or a mask "
                f"({', '.join(MASKS)})",
                *where,
                name,
            )
            continue
        out[name] = text
    return out


def iter_rules(agreement: Agreement) -> Iterator[tuple[str, str, str]]:
    """(type, field or "*", rule) for every rule an agreement writes down."""
    for type_name, rules in agreement.fields.items():
        for field_name, rule in rules.items():
            yield type_name, field_name, rule
