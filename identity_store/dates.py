"""Birth dates as operators know them: a day, a month or only a year."""

from __future__ import annotations

import datetime as dt
import re

from identity_store.errors import InvalidInput

_PARTIAL = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


def parse_birth_date(text: str) -> tuple[dt.date, str]:
    """``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` → (the first day it can be, its precision)."""
    match = _PARTIAL.fullmatch(text.strip())
    try:
        if match is None:
            raise ValueError
        year, month, day = match.groups()
        if day is not None:
            return dt.date(int(year), int(month), int(day)), "day"
        if month is not None:
            return dt.date(int(year), int(month), 1), "month"
        return dt.date(int(year), 1, 1), "year"
    except ValueError:
        raise InvalidInput(
            f"birth date {text!r} is not a date; write YYYY-MM-DD, or YYYY-MM or YYYY "
            "when only the month or the year is known (e.g. 1990-05-17, 1990-05, 1990)."
        ) from None


def format_birth_date(date: dt.date, precision: str) -> str:
    """The birth date as precisely as it is known: ``1990-05-17``, ``1990-05`` or ``1990``."""
    if precision == "year":
        return f"{date.year:04d}"
    if precision == "month":
        return f"{date.year:04d}-{date.month:02d}"
    return date.isoformat()
