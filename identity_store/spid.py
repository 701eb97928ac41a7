"""Social Protection IDs: opaque, random, fixed length, with a Verhoeff check digit.

A SPID is 12 decimal digits: 11 drawn at random (never derived from personal data,
never sequential, so holding one SPID tells nothing about any other) followed by a
Verhoeff check digit, which catches every single-digit error and every transposition
of adjacent digits.
"""

from __future__ import annotations

import random
import secrets

SPID_LENGTH = 12

# Verhoeff tables: multiplication in the dihedral group D5, the position
# permutation, and the inverse.
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


class InvalidSpid(ValueError):
    """A string that is not a well-formed SPID; the message says why and what to do."""


def verhoeff_check_digit(digits: str) -> str:
    """The Verhoeff check digit to append to ``digits``."""
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[(i + 1) % 8][int(ch)]]
    return str(_INV[c])


def verhoeff_valid(digits: str) -> bool:
    """Whether ``digits`` (check digit last) passes the Verhoeff check."""
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[i % 8][int(ch)]]
    return c == 0


def new_spid(rng: random.Random | None = None) -> str:
    """A fresh random SPID; pass ``rng`` only for reproducible synthetic data."""
    if rng is None:
        body = "".join(str(secrets.randbelow(10)) for _ in range(SPID_LENGTH - 1))
    else:
        body = "".join(str(rng.randrange(10)) for _ in range(SPID_LENGTH - 1))
    return body + verhoeff_check_digit(body)


def validate_spid(value: str) -> str:
    """Return ``value`` if it is a well-formed SPID, else raise :class:`InvalidSpid`."""
    if not isinstance(value, str):  # a representation or a Python caller may send a number
        raise InvalidSpid(
            f"a SPID is a string of {SPID_LENGTH} digits; got {type(value).__name__}. "
            "Send it in quotes, exactly as the registry issued it (it may start with 0)."
        )
    if len(value) != SPID_LENGTH or not value.isascii() or not value.isdigit():
        raise InvalidSpid(
            f"a SPID is {SPID_LENGTH} digits; got {len(value)} characters. "
            "Copy the SPID exactly as the registry issued it."
        )
    if not verhoeff_valid(value):
        raise InvalidSpid(
            "this SPID fails its check digit: a digit is mistyped or two digits are swapped. "
            "Check it against the registry's record."
        )
    return value


def is_valid_spid(value: str) -> bool:
    """Whether ``value`` is a well-formed SPID."""
    try:
        validate_spid(value)
    except InvalidSpid:
        return False
    return True
