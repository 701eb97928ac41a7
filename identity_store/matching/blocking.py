"""Blocking keys: the registry compares a new record only with people who share one.

Each key type is built from normalized values, so romanization variants (Sokh/Sok),
swapped family and given names (the two names are sorted) and year-only birth dates
(keys carry the year) still share a key. Every key pairs a name with a birth date or a
village, or is an identifier, so that at a million people a key selects a few dozen rows
at most: never a bare name, year or village.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from identity_store.matching.features import Features, features
from identity_store.matching.record import MatchRecord


def _pair(x: str | None, y: str | None) -> str | None:
    if x is None or y is None:
        return None
    return "|".join(sorted((x, y)))


def _join(*parts: object) -> str | None:
    if any(p is None for p in parts):
        return None
    return "|".join(str(p) for p in parts)


def _first(x: str | None, y: str | None) -> str | None:
    return min(x, y) if x is not None and y is not None else x or y


def _last(x: str | None, y: str | None) -> str | None:
    return max(x, y) if x is not None and y is not None else None


def _names(f: Features) -> str | None:
    """Both names in Latin script (romanization keys), or else in their own script."""
    return _pair(f.fam_key, f.giv_key) or _pair(f.fam_km, f.giv_km)


BLOCKING_KEY_TYPES: dict[str, Callable[[Features], str | None]] = {
    # both names (any order, romanization key) and the birth year
    "nb": lambda f: _join(_pair(f.fam_key, f.giv_key), f.dob_y),
    # both names and the commune: found again whatever the birth date says
    "nc": lambda f: _join(_pair(f.fam_key, f.giv_key), f.commune),
    # both names in Khmer script and the birth year
    "kb": lambda f: _join(_pair(f.fam_km, f.giv_km), f.dob_y),
    # one name (the alphabetically first or last, so that a swap keeps it) and the full
    # birth date or the village: found again despite a typo in the other name
    "ad": lambda f: _join(_first(f.fam_key, f.giv_key), f.dob),
    "zd": lambda f: _join(_last(f.fam_key, f.giv_key), f.dob),
    "av": lambda f: _join(_first(f.fam_key, f.giv_key), f.village),
    "zv": lambda f: _join(_last(f.fam_key, f.giv_key), f.village),
    "p": lambda f: f.phone,
    "k": lambda f: f.khmer_id,
    # Backlogs with street addresses instead of gazetteer codes (the registry's records
    # have none of these, so it stores no such keys): both names and the postcode or the
    # locality, one name and the address, an operator's identifier.
    "np": lambda f: _join(_names(f), f.postcode),
    "nl": lambda f: _join(_names(f), f.locality),
    "aa": lambda f: _join(_first(f.fam_key, f.giv_key), f.address),
    "za": lambda f: _join(_last(f.fam_key, f.giv_key), f.address),
    "e": lambda f: f.external_id,
}


def blocking_key_values(record: MatchRecord) -> dict[str, str | None]:
    """The value of every key type for ``record`` (``None`` where it has none)."""
    f = features(record)
    return {kind: build(f) for kind, build in BLOCKING_KEY_TYPES.items()}


def blocking_keys(record: MatchRecord) -> frozenset[str]:
    """Short strings; two records that may be the same person share at least one.

    The registry stores each person's keys in an indexed table and looks candidates up
    by them, so every key must stay selective (not, say, a bare birth year).
    """
    return frozenset(
        f"{kind}:{value}" for kind, value in blocking_key_values(record).items() if value
    )


def khmer_name_keys(family_name_km: str, given_name_km: str, years: Iterable[int]) -> list[str]:
    """The Khmer-name keys (``kb``) of people with these names born in any of ``years``:
    a Khmer-script search looks them up, with or without a birth year."""
    f = features(MatchRecord(family_name_km=family_name_km, given_name_km=given_name_km))
    values = (BLOCKING_KEY_TYPES["kb"](replace(f, dob_y=year)) for year in years)
    return [f"kb:{value}" for value in values if value]
