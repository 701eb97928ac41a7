"""Reading one cell of a backlog into the value of a :class:`MatchRecord` field.

A value that cannot be read (an impossible date, a Khmer ID that is not nine digits, a
phone number with letters in it) raises :class:`UnreadableValue` with a reason that
never repeats the value: reasons are reported with row numbers, and logs must not carry
personal data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from identity_store.matching import normalize
from identity_store.matching.dates import parse_birth_date

_KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
_PHONE_SEPARATORS = frozenset(" -./()")
_SEX = {
    "m": "male", "male": "male", "1": "male", "ប្រុស": "male",
    "f": "female", "female": "female", "2": "female", "ស្រី": "female",
    "other": "other", "u": None, "unknown": None,
}  # fmt: skip
_GAZETTEER_LENGTHS = frozenset((2, 4, 6, 8))  # province, district, commune, village


class UnreadableValue(ValueError):
    """A cell whose value cannot be read as its field; ``reason`` omits the value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_cell(field: str, text: str, today: dt.date | None = None) -> dict[str, Any]:
    """The record fields one non-empty cell sets (a birth date sets its precision too)."""
    reader = _READERS.get(field, _name)
    return reader(field, text.translate(_KHMER_DIGITS), today or dt.date.today())


def _birth_date(field: str, text: str, today: dt.date) -> dict[str, Any]:
    try:
        date, precision = parse_birth_date(text)
    except ValueError as error:
        real = "is not a real date" in str(error)
        raise UnreadableValue("not a real date" if real else "not a date in a known form") from None
    if date > today:
        raise UnreadableValue("a date in the future")
    return {"birth_date": date, "birth_precision": precision}


def _sex(field: str, text: str, today: dt.date) -> dict[str, Any]:
    key = text.strip().lower()
    if key not in _SEX:
        raise UnreadableValue("not a sex (M, F, male, female, 1, 2, other or unknown)")
    return {"sex": _SEX[key]}


def _village_code(field: str, text: str, today: dt.date) -> dict[str, Any]:
    code = normalize.identifier(text)
    if code is None or not code.isdigit() or len(code) not in _GAZETTEER_LENGTHS:
        raise UnreadableValue("not a gazetteer code (2, 4, 6 or 8 digits)")
    return {"village_code": code}


def _phone(field: str, text: str, today: dt.date) -> dict[str, Any]:
    rest = text.strip().removeprefix("+")
    national = normalize.phone_number(rest)
    if any(c not in _PHONE_SEPARATORS and not c.isdigit() for c in rest) or (
        national is None or len(national) not in (8, 9)
    ):
        raise UnreadableValue("not a phone number (8 or 9 digits after +855 or 0)")
    return {"phone": text}


def _khmer_id(field: str, text: str, today: dt.date) -> dict[str, Any]:
    digits = "".join(c for c in text if c not in " -")
    if len(digits) != 9 or not digits.isdigit():
        raise UnreadableValue("not a Khmer ID (9 digits)")
    return {"khmer_id": digits}


def _identifier(field: str, text: str, today: dt.date) -> dict[str, Any]:
    if normalize.identifier(text) is None:
        raise UnreadableValue("no letters or digits")
    return {field: text}


def _text(field: str, text: str, today: dt.date) -> dict[str, Any]:
    # addresses and localities, in any script
    if not any(c.isalnum() for c in text):
        raise UnreadableValue("no letters or digits")
    return {field: text}


def _name(field: str, text: str, today: dt.date) -> dict[str, Any]:
    # in any script: Khmer consonants and vowels are letters too
    if not any(c.isalpha() for c in text):
        raise UnreadableValue("no letters")
    return {field: text}


_READERS = {
    "birth_date": _birth_date,
    "sex": _sex,
    "village_code": _village_code,
    "phone": _phone,
    "khmer_id": _khmer_id,
    "external_id": _identifier,
    "postcode": _identifier,
    "address": _text,
    "locality": _text,
}
