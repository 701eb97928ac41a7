"""Birth dates as operators know them: a day, a month or only a year."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from identity_store.errors import InvalidInput

# ASCII digits only: \d would let any script's digits through to int().
_PARTIAL = re.compile(r"([0-9]{4})(?:-([0-9]{2}))?(?:-([0-9]{2}))?")
# No one living was born earlier; a year before it is a typo (or a placeholder such as
# 0001-01-01 or 1900-01-01 standing for "unknown", which the registry must not store as
# a birth date: leave the day and month out instead).
EARLIEST_BIRTH_YEAR = 1900
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
FORMAT_HINT = (
    "write YYYY-MM-DD, or YYYY-MM or YYYY when only the month or the year is known "
    "(e.g. 1990-05-17, 1990-05, 1990)"
)


def parse_birth_date(text: str, today: dt.date | None = None) -> tuple[dt.date, str]:
    """``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` → (the first day it can be, its precision).

    :class:`InvalidInput` says what is wrong: the form, a month or day that does not
    exist, a year before 1900 or a date in the future.
    """
    match = _PARTIAL.fullmatch(text.strip())
    if match is None:
        raise InvalidInput(f"birth date {text!r} is not a date; {FORMAT_HINT}.")
    year_text, month_text, day_text = match.groups()
    year = int(year_text)
    month = int(month_text) if month_text else 1
    if not 1 <= month <= 12:
        raise InvalidInput(
            f"birth date {text!r} has month {month_text}; a month is 01 to 12 ({FORMAT_HINT})."
        )
    check_birth_year(year, repr(text))
    if day_text is None:
        date, precision = dt.date(year, month, 1), ("month" if month_text else "year")
    else:
        days = calendar.monthrange(year, month)[1]
        day = int(day_text)
        if not 1 <= day <= days:
            raise InvalidInput(
                f"birth date {text!r} has day {day_text}, but "
                f"{MONTHS[month - 1]} {year} has {days} days."
            )
        date, precision = dt.date(year, month, day), "day"
    check_birth_date(date, today)
    return date, precision


def check_birth_year(year: int, shown: str) -> None:
    """:class:`InvalidInput` for a birth year before :data:`EARLIEST_BIRTH_YEAR`."""
    if year < EARLIEST_BIRTH_YEAR:
        raise InvalidInput(
            f"birth date {shown} is before {EARLIEST_BIRTH_YEAR}: check the year. When only "
            "part of the date is known, give the year (YYYY) or the month (YYYY-MM) "
            "rather than a placeholder."
        )


def check_birth_date(date: dt.date, today: dt.date | None = None) -> None:
    """:class:`InvalidInput` for a birth date before 1900 or after ``today``."""
    check_birth_year(date.year, date.isoformat())
    today = today or dt.date.today()
    if date > today:
        raise InvalidInput(f"birth date {date.isoformat()} is in the future: check the year.")


def format_birth_date(date: dt.date, precision: str) -> str:
    """The birth date as precisely as it is known: ``1990-05-17``, ``1990-05`` or ``1990``."""
    if precision == "year":
        return f"{date.year:04d}"
    if precision == "month":
        return f"{date.year:04d}-{date.month:02d}"
    return date.isoformat()
