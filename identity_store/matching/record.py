"""What the matcher sees of a person: the identity fields that de-duplication compares."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

DatePrecision = Literal["day", "month", "year"]


@dataclass(frozen=True)
class MatchRecord:
    """One person's identity fields, any of which may be missing.

    The online matcher builds these from registry rows and registration requests; batch
    de-duplication builds them from CSV rows (which may carry free-text ``address``,
    ``locality`` and ``postcode`` and an ``external_id`` instead of gazetteer codes).
    """

    family_name: str | None = None
    given_name: str | None = None
    family_name_km: str | None = None
    given_name_km: str | None = None
    birth_date: dt.date | None = None
    birth_precision: DatePrecision | None = None
    sex: str | None = None
    village_code: str | None = None
    phone: str | None = None
    address: str | None = None
    locality: str | None = None
    postcode: str | None = None
    external_id: str | None = None
    khmer_id: str | None = None  # compared as evidence; an exact match is decided before scoring
