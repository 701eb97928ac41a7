"""One request that returned personal data, as the gateway reports it to the access log."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["ok", "partial", "error"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "partial", "error")

# The column sizes of policies/models.py: an entry that fits is never refused by the database,
# so one bad entry cannot fail the group commit it shares with others.
_LIMITS = {
    "partner": 64,
    "purpose": 64,
    "end_user": 200,
    "operation_name": 200,
    "document_hash": 64,
}
MAX_SUBJECT_ID = 64
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class AccessEntry:
    """What one gateway request returned, to whom, why and under which policy version.

    Built from the request once its response is shaped. ``fields``, ``spids`` and
    ``household_ids`` are normalised to sorted tuples without repeats, and ``at`` to UTC;
    anything the registry database could not store raises :class:`ValueError` here, in the
    caller, and never in the shared commit.
    """

    at: dt.datetime
    partner: str
    purpose: str
    end_user: str | None
    operation_name: str | None
    document_hash: str
    policy_version: int | None
    fields: tuple[str, ...]
    spids: tuple[str, ...]
    household_ids: tuple[str, ...]
    outcome: Outcome

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("AccessEntry.at must be timezone-aware (UTC)")
        object.__setattr__(self, "at", self.at.astimezone(dt.UTC))
        for name, limit in _LIMITS.items():
            value = getattr(self, name)
            optional = name in ("end_user", "operation_name")
            if value is None and optional:
                continue
            _check_text(name, value, limit)
        if self.policy_version is not None and (
            isinstance(self.policy_version, bool) or not isinstance(self.policy_version, int)
        ):
            raise ValueError("AccessEntry.policy_version must be an int or None")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"AccessEntry.outcome must be one of {', '.join(OUTCOMES)}")
        fields = _normalised("fields", self.fields, None)
        for field in fields:
            if not _FIELD.fullmatch(field):
                raise ValueError("AccessEntry.fields must be 'Type.field' names")
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "spids", _normalised("spids", self.spids, MAX_SUBJECT_ID))
        object.__setattr__(
            self, "household_ids", _normalised("household_ids", self.household_ids, MAX_SUBJECT_ID)
        )


def _check_text(name: str, value: object, limit: int | None) -> None:
    # The messages name the attribute, never its value: values may be personal data.
    if not isinstance(value, str) or not value:
        raise ValueError(f"AccessEntry.{name} must be a non-empty string")
    if limit is not None and len(value) > limit:
        raise ValueError(f"AccessEntry.{name} is longer than {limit} characters")
    if "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise ValueError(f"AccessEntry.{name} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"AccessEntry.{name} is not valid Unicode text") from None


def _normalised(name: str, values: object, limit: int | None) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, tuple | list | set | frozenset):
        raise ValueError(f"AccessEntry.{name} must be a tuple of strings")
    for value in values:
        _check_text(name, value, limit)
    return tuple(sorted(set(values)))
