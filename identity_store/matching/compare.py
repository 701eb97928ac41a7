"""Comparison functions: each turns a pair of records into a named agreement level.

A first cut; romanization normalisation and fuzzier levels belong here.
"""

from __future__ import annotations

from collections.abc import Callable

from identity_store.matching.record import MatchRecord

Comparison = Callable[[MatchRecord, MatchRecord], str]


def _norm(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    return " ".join(text.upper().split())


def family_name(a: MatchRecord, b: MatchRecord) -> str:
    x, y = _norm(a.family_name), _norm(b.family_name)
    if x is None or y is None:
        return "missing"
    if x == y:
        return "exact"
    if x == _norm(b.given_name) and y == _norm(a.given_name):
        return "swapped"
    return "different"


def given_name(a: MatchRecord, b: MatchRecord) -> str:
    x, y = _norm(a.given_name), _norm(b.given_name)
    if x is None or y is None:
        return "missing"
    if x == y:
        return "exact"
    if x == _norm(b.family_name) and y == _norm(a.family_name):
        return "swapped"
    return "different"


def birth_date(a: MatchRecord, b: MatchRecord) -> str:
    if a.birth_date is None or b.birth_date is None:
        return "missing"
    if a.birth_date.year != b.birth_date.year:
        return "different"
    if "year" in (a.birth_precision, b.birth_precision):
        return "year_only"
    return "exact" if a.birth_date == b.birth_date else "different"


def sex(a: MatchRecord, b: MatchRecord) -> str:
    if a.sex in (None, "unknown") or b.sex in (None, "unknown"):
        return "missing"
    return "exact" if a.sex == b.sex else "different"


def village(a: MatchRecord, b: MatchRecord) -> str:
    if a.village_code is None or b.village_code is None:
        return "missing"
    if a.village_code == b.village_code:
        return "exact"
    if a.village_code[:6] == b.village_code[:6]:
        return "commune"
    return "different"


def phone(a: MatchRecord, b: MatchRecord) -> str:
    if not a.phone or not b.phone:
        return "missing"
    return "exact" if a.phone == b.phone else "different"


COMPARISONS: dict[str, Comparison] = {
    "family_name": family_name,
    "given_name": given_name,
    "birth_date": birth_date,
    "sex": sex,
    "village": village,
    "phone": phone,
}
