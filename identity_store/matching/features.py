"""The normalized values that comparisons and blocking keys read, computed once per record.

Batch de-duplication writes exactly these columns into the table splink reads, so the SQL
of a comparison level and its Python test see the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache

from identity_store.matching import normalize
from identity_store.matching.record import MatchRecord

_SEXES = frozenset(("male", "female", "other"))


@dataclass(frozen=True)
class Features:
    """One record's normalized values; ``None`` is a missing value."""

    fam_lat: str | None
    fam_key: str | None
    giv_lat: str | None
    giv_key: str | None
    fam_km: str | None  # Khmer script, or a name in another script than Latin
    giv_km: str | None
    dob: str | None  # ISO date, day precision only
    dob_y: int | None
    dob_m: int | None  # month and year precision
    dob_d: int | None  # day precision only
    sex: str | None
    village: str | None
    commune: str | None
    district: str | None
    province: str | None
    phone: str | None
    khmer_id: str | None
    external_id: str | None
    address: str | None
    locality: str | None
    postcode: str | None


FEATURE_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Features))


def _prefix(code: str | None, length: int) -> str | None:
    return code[:length] if code is not None and len(code) >= length else None


def _script(own: str | None, name: str | None, latin: str | None) -> str | None:
    """The name in its own script: the Khmer field, or else a name field that has no
    Latin letters (Khmer typed where the Latin name was asked, or any other script)."""
    if own is not None:
        return normalize.script_name(own)
    return normalize.script_name(name) if latin is None else None


@lru_cache(maxsize=131072)
def features(record: MatchRecord) -> Features:
    """Normalize one record (cached: the registry scores one record against many)."""
    date = record.birth_date
    precision = record.birth_precision or "day"
    code = normalize.identifier(record.village_code)
    code = code if code is not None and code.isdigit() else None
    sex = (record.sex or "").strip().lower()
    fam_lat = normalize.latin_name(record.family_name)
    giv_lat = normalize.latin_name(record.given_name)
    return Features(
        fam_lat=fam_lat,
        fam_key=normalize.romanization_key(record.family_name),
        giv_lat=giv_lat,
        giv_key=normalize.romanization_key(record.given_name),
        fam_km=_script(record.family_name_km, record.family_name, fam_lat),
        giv_km=_script(record.given_name_km, record.given_name, giv_lat),
        dob=date.isoformat() if date is not None and precision == "day" else None,
        dob_y=date.year if date is not None else None,
        dob_m=date.month if date is not None and precision != "year" else None,
        dob_d=date.day if date is not None and precision == "day" else None,
        sex=sex if sex in _SEXES else None,
        village=_prefix(code, 8),
        commune=_prefix(code, 6),
        district=_prefix(code, 4),
        province=_prefix(code, 2),
        phone=normalize.phone_number(record.phone),
        khmer_id=normalize.identifier(record.khmer_id),
        external_id=normalize.identifier(record.external_id),
        address=normalize.free_text(record.address),
        locality=normalize.romanization_key(record.locality)
        or normalize.script_name(record.locality),
        postcode=normalize.identifier(record.postcode),
    )
