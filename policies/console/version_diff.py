"""What changed between two policy documents, per purpose, agreement and field, for people.

Pure: two :class:`~policies.model.PolicyDocument` in, a :class:`DocumentDiff` out. A field
nobody lists is hidden, so "not listed" and "hidden" read alike, and a rule that moves
from one to the other is no change.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from policies.model import HIDDEN, PolicyDocument

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class Change:
    """One setting: its name, and its value before and after (None: absent)."""

    what: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class AgreementDiff:
    partner: str
    purpose: str
    status: str  # added | removed | changed
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class DocumentDiff:
    purposes: tuple[Change, ...]
    agreements: tuple[AgreementDiff, ...]
    guardrails: tuple[str, ...]  # a unified diff of the Cedar text, line by line
    other: tuple[Change, ...]  # filters, subjects, verifications, from_credentials

    @property
    def empty(self) -> bool:
        return not (self.purposes or self.agreements or self.guardrails or self.other)


def diff_documents(old: PolicyDocument, new: PolicyDocument) -> DocumentDiff:
    """The differences from ``old`` to ``new``."""
    before, after = old.to_json(), new.to_json()
    purposes = _mapping_changes(
        {c: _purpose(p) for c, p in before["purposes"].items()},
        {c: _purpose(p) for c, p in after["purposes"].items()},
    )
    olds = {(a["partner"], a["purpose"]): a for a in before["agreements"]}
    news = {(a["partner"], a["purpose"]): a for a in after["agreements"]}
    agreements = []
    for key in sorted(olds.keys() | news.keys()):
        was, now = olds.get(key), news.get(key)
        changes = tuple(_agreement_changes(was or {}, now or {}))
        if was is None:
            agreements.append(AgreementDiff(*key, ADDED, changes))
        elif now is None:
            agreements.append(AgreementDiff(*key, REMOVED, changes))
        elif changes:
            agreements.append(AgreementDiff(*key, CHANGED, changes))
    guardrails = tuple(
        line.rstrip("\n")
        for line in difflib.unified_diff(
            before["guardrails"].splitlines(),
            after["guardrails"].splitlines(),
            "before",
            "after",
            lineterm="",
        )
    )
    other: list[Change] = []
    for name in ("verifications", "from_credentials"):
        other.extend(_set_changes(name, before[name], after[name]))
    other.extend(
        _set_changes(
            "filters",
            [_filter(f) for f in before["filters"]],
            [_filter(f) for f in after["filters"]],
        )
    )
    for kind in sorted(before["subjects"].keys() | after["subjects"].keys()):
        other.extend(
            _set_changes(
                f"subjects {kind}",
                before["subjects"].get(kind, []),
                after["subjects"].get(kind, []),
            )
        )
    return DocumentDiff(tuple(purposes), tuple(agreements), guardrails, tuple(other))


def _purpose(data: Mapping[str, str]) -> str:
    return f"{data['description']} (legal basis: {data['legal_basis']})"


def _filter(data: Mapping[str, Any]) -> str:
    allows = f", allows {', '.join(data['allows'])}" if data["allows"] else ""
    return f"{data['argument']} needs {data['field']}{allows}"


def _agreement_changes(was: Mapping[str, Any], now: Mapping[str, Any]) -> Iterable[Change]:
    yield from _mapping_changes(_rules(was.get("fields", {})), _rules(now.get("fields", {})))
    for name in ("valid_from", "valid_until", "legal_basis", "trusted_documents"):
        yield from _value_change(name.replace("_", " "), was.get(name), now.get(name))
    for name in ("hidden_arguments", "scopes", "policies"):
        yield from _set_changes(name.replace("_", " "), was.get(name) or [], now.get(name) or [])
    yield from _optional_list(
        "programmes", was.get("programmes"), now.get("programmes"), "any (not limited)"
    )
    old_scope, new_scope = was.get("scope") or {}, now.get("scope") or {}
    yield from _optional_list(
        "row scope areas", old_scope.get("areas"), new_scope.get("areas"), "every area"
    )
    yield from _value_change(
        "row scope own registrations",
        _yes_no(old_scope.get("own_registrations")) if was else None,
        _yes_no(new_scope.get("own_registrations")) if now else None,
    )
    old_limits, new_limits = was.get("limits") or {}, now.get("limits") or {}
    for name in sorted(old_limits.keys() | new_limits.keys()):
        yield from _value_change(
            f"limit {name.replace('_', ' ')}",
            _limit(old_limits.get(name)) if was else None,
            _limit(new_limits.get(name)) if now else None,
        )


def _rules(fields: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    return {
        f"{type_name}.{field}": rule
        for type_name, rules in fields.items()
        for field, rule in rules.items()
        if rule != HIDDEN
    }


def _mapping_changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[Change]:
    out = []
    for name in sorted(old.keys() | new.keys()):
        if old.get(name) != new.get(name):
            out.append(Change(name, old.get(name), new.get(name)))
    return out


def _value_change(what: str, old: Any, new: Any) -> Iterable[Change]:
    if old != new:
        yield Change(what, None if old is None else str(old), None if new is None else str(new))


def _set_changes(what: str, old: Iterable[str], new: Iterable[str]) -> Iterable[Change]:
    before, after = set(old), set(new)
    for item in sorted(after - before):
        yield Change(what, None, item)
    for item in sorted(before - after):
        yield Change(what, item, None)


def _optional_list(
    what: str, old: list[str] | None, new: list[str] | None, unset: str
) -> Iterable[Change]:
    if old == new:
        return
    if old is None or new is None:
        yield Change(
            what,
            unset if old is None else ", ".join(old) or "none",
            unset if new is None else ", ".join(new) or "none",
        )
        return
    yield from _set_changes(what, old, new)


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


def _limit(value: Any) -> str:
    return "the gateway's setting" if value is None else str(value)
