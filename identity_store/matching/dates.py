"""Birth dates as operators write them, with the precision they carry."""

from __future__ import annotations

import datetime as dt
import re

from identity_store.matching.record import DatePrecision

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_MY = re.compile(r"(\d{1,2})/(\d{4})")
_YEAR = re.compile(r"\d{4}")


def parse_birth_date(text: str) -> tuple[dt.date, DatePrecision]:
    """ISO (1985-03-04, 1985-03), YYYYMMDD, DD/MM/YYYY, MM/YYYY or a year alone.

    A date known to the month or the year is stored as its first day, with the precision
    saying how much of it is known. Raises ``ValueError`` naming the accepted forms.
    """
    value = text.strip()
    try:
        if m := _ISO.fullmatch(value):
            return dt.date(int(m[1]), int(m[2]), int(m[3])), "day"
        if m := _COMPACT.fullmatch(value):
            return dt.date(int(m[1]), int(m[2]), int(m[3])), "day"
        if m := _DMY.fullmatch(value):
            return dt.date(int(m[3]), int(m[2]), int(m[1])), "day"
        if m := _ISO_MONTH.fullmatch(value):
            return dt.date(int(m[1]), int(m[2]), 1), "month"
        if m := _MY.fullmatch(value):
            return dt.date(int(m[2]), int(m[1]), 1), "month"
        if _YEAR.fullmatch(value) and int(value) >= 1:
            return dt.date(int(value), 1, 1), "year"
    except ValueError as error:
        raise ValueError(f"{value!r} is not a real date ({error})") from None
    raise ValueError(
        f"{value!r} is not a date: expected YYYY-MM-DD, YYYYMMDD, DD/MM/YYYY, YYYY-MM or YYYY"
    )
