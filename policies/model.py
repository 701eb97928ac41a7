"""The policy model: purposes, agreements, guardrails, as one document, and its canonical form.

A :class:`PolicyDocument` is what a policy file says (``policies.document`` reads one) and
what a version stores: its canonical JSON, whose SHA-256 is the document's digest, so two
versions with one content are known to be equal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson
import yaml

FORMAT = "tonle-policy/1"
# The kinds of subject the access log records (policies.audit's PERSON and HOUSEHOLD).
SUBJECT_KINDS = ("person", "household")
VISIBLE = "visible"
HIDDEN = "hidden"
ALL_FIELDS = "*"
# An agreement's trusted documents: any operation may run, or only the partner's registered ones.
OPTIONAL = "optional"
REQUIRED = "required"
TRUSTED_DOCUMENTS = (OPTIONAL, REQUIRED)

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
    # for each end user the partner names (X-Tonle-End-User), besides the partner's own
    requests_per_minute_per_end_user: int = 60
    verifications_per_request: int = 10
    verifications_per_minute: int = 100
    # the operation limits (gateway.limits.OperationLimits); None: the gateway's setting
    # (TONLE_MAX_DEPTH, ... or its default), so operators set one figure for every partner
    # and an agreement changes it only where it says so
    max_depth: int | None = None
    max_aliases: int | None = None
    max_root_fields: int | None = None
    max_tokens: int | None = None
    max_cost: int | None = None

    def operation_limits(self) -> dict[str, int]:
        """The operation limits this agreement sets itself."""
        return {
            name: value for name in OPERATION_LIMITS if (value := getattr(self, name)) is not None
        }


OPERATION_LIMITS = ("max_depth", "max_aliases", "max_root_fields", "max_tokens", "max_cost")


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
    trusted_documents: str = OPTIONAL  # REQUIRED: only the partner's registered operations

    @property
    def requires_trusted_documents(self) -> bool:
        return self.trusted_documents == REQUIRED

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
        "limits": dict(vars(a.limits)),
        "scopes": sorted(a.scopes),
        "policies": sorted(a.policies),
        "trusted_documents": a.trusted_documents,
    }


def _agreement_yaml(data: dict[str, Any]) -> dict[str, Any]:
    """Leave out what is empty or default, so an exported file reads like a written one."""
    out = {k: v for k, v in data.items() if v not in (None, [], {})}
    if out.get("trusted_documents") == OPTIONAL:
        del out["trusted_documents"]
    scope = {k: v for k, v in data["scope"].items() if v not in (None, False)}
    if scope:
        out["scope"] = scope
    else:
        out.pop("scope", None)
    return out


# -- reading a file ----------------------------------------------------------------------
