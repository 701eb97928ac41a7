"""``Date`` and ``DateTime`` as every subgraph reads them, refusing bad values in our words.

Strawberry's own scalars answer a bad value with Python's wording ("Invalid isoformat
string", "day is out of range for month"); these keep the same names, descriptions and
output, so the schema a subgraph publishes is unchanged, and say what is wrong and how
to write it instead. Pass :data:`SCALAR_OVERRIDES` to a schema's ``scalar_overrides``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATE_HINT = "write YYYY-MM-DD, e.g. 1990-05-17"
_DATETIME_HINT = "write an ISO 8601 date and time, e.g. 2026-05-17T09:30:00+07:00"


def _refuse(message: str) -> StrawberryInputCoercionError:
    return StrawberryInputCoercionError(message, extensions={"code": "BAD_USER_INPUT"})


def parse_date(value: object) -> dt.date:
    """A ``Date`` input: ``YYYY-MM-DD`` and nothing else."""
    if not isinstance(value, str):
        raise _refuse(f"a Date is a string; got {type(value).__name__}: {_DATE_HINT}.")
    match = _DATE.fullmatch(value)
    if match is None:
        raise _refuse(f"{value!r} is not a date: {_DATE_HINT}.")
    year, month, day = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        raise _refuse(f"{value!r} has month {match.group(2)}; a month is 01 to 12.")
    try:
        return dt.date(year, month, day)
    except ValueError:
        written = match.group(3)
        raise _refuse(f"{value!r} has day {written}, which its month does not have.") from None


def parse_datetime(value: object) -> dt.datetime:
    """A ``DateTime`` input: an ISO 8601 date and time, with or without an offset."""
    if not isinstance(value, str):
        raise _refuse(f"a DateTime is a string; got {type(value).__name__}: {_DATETIME_HINT}.")
    if not value.isascii() or len(value) > 40 or len(value) < 10:
        raise _refuse(f"{value!r} is not a date and time: {_DATETIME_HINT}.")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _refuse(f"{value!r} is not a date and time: {_DATETIME_HINT}.") from None
    try:
        # An offset that moves it past year 9999 or before year 1 cannot be compared.
        if parsed.tzinfo is not None:
            parsed.astimezone(dt.UTC)
    except OverflowError:
        raise _refuse(f"{value!r} is outside the dates the registry can compare.") from None
    return parsed


def _isoformat(value: Any) -> str:
    return str(value.isoformat())


DATE = ScalarDefinition(
    name="Date",
    description="Date (isoformat)",
    specified_by_url=None,
    serialize=_isoformat,
    parse_value=parse_date,
    parse_literal=None,
    origin=dt.date,
)
DATETIME = ScalarDefinition(
    name="DateTime",
    description="Date with time (isoformat)",
    specified_by_url=None,
    serialize=_isoformat,
    parse_value=parse_datetime,
    parse_literal=None,
    origin=dt.datetime,
)
SCALAR_OVERRIDES: dict[object, Any] = {dt.date: DATE, dt.datetime: DATETIME}
