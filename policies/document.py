"""Reading a policy: a YAML file (format ``tonle-policy/1``, documented in docs/policies.md),
or a stored version's canonical JSON, into a :class:`~policies.model.PolicyDocument`.

A file that cannot be used gives a :class:`PolicyFileError` listing every problem with its
file and line, not only the first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, TypeVar

import yaml

from policies.errors import PolicyError
from policies.masks import MASKS
from policies.model import (
    ALL_FIELDS,
    FORMAT,
    HIDDEN,
    OPTIONAL,
    SUBJECT_KINDS,
    TRUSTED_DOCUMENTS,
    VISIBLE,
    Agreement,
    Filter,
    Limits,
    Path,
    PolicyDocument,
    Problem,
    Purpose,
    RowScopeRule,
)

_CODE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")
# Type.field(argument) or Input.field
_ARGUMENT = re.compile(r"^([_A-Za-z]\w*)\.([_A-Za-z]\w*)(?:\(([_A-Za-z]\w*)\))?$")
_AREA = re.compile(r"^\d{2}(\d{2}(\d{2})?)?$")

D = TypeVar("D")


class PolicyFileError(PolicyError):
    """A policy that cannot be used, with every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def read_stored(data: Mapping[str, Any]) -> PolicyDocument:
    """A stored version's document (its canonical JSON, checked when it was stored)."""
    return _read(dict(data), {}, None)


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

    def count(self, value: Any, default: D, *path: str | int) -> int | D:
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
    "trusted_documents",
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
    trusted = data.get("trusted_documents") or OPTIONAL
    if trusted not in TRUSTED_DOCUMENTS:
        r.fail(
            f"trusted_documents is {' or '.join(TRUSTED_DOCUMENTS)}; got {trusted!r}",
            *at,
            "trusted_documents",
        )
        trusted = OPTIONAL
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
        trusted_documents=trusted,
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
