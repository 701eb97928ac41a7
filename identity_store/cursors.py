"""Opaque pagination cursors: a versioned prefix and a value, base64url without padding."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from identity_store.errors import InvalidCursor


def encode(prefix: str, value: str) -> str:
    """The cursor that points after ``value``."""
    return base64.urlsafe_b64encode((prefix + value).encode()).decode().rstrip("=")


def decode(prefix: str, cursor: str, valid: Callable[[str], bool]) -> str:
    """The value a cursor of ``prefix`` points after; :class:`InvalidCursor` if not ours."""
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    value = text.removeprefix(prefix)
    if not text.startswith(prefix) or not valid(value):
        raise InvalidCursor(
            "this cursor was not issued by the registry; pass the endCursor of the "
            "previous page, or no cursor to start from the beginning."
        )
    return value
