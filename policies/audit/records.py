"""Access records as the database holds them: rows to and from :class:`AccessEntry`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from policies.audit.entry import AccessEntry

PERSON = "person"
HOUSEHOLD = "household"
SUBJECT_KINDS = (PERSON, HOUSEHOLD)

# access_log's columns besides seq, prev_hash and hash, in AccessEntry's terms.
ENTRY_COLUMNS = (
    "at",
    "partner",
    "purpose",
    "end_user",
    "operation_name",
    "document_hash",
    "policy_version",
    "fields",
    "outcome",
)


def utc(value: dt.datetime) -> dt.datetime:
    """A time read back from the database, in UTC (SQLite gives it back without a zone)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def record_row(seq: int, prev_hash: str, hash: str, entry: AccessEntry) -> dict[str, Any]:
    """The access_log row of ``entry`` at ``seq``."""
    return {
        "seq": seq,
        "at": entry.at,
        "partner": entry.partner,
        "purpose": entry.purpose,
        "end_user": entry.end_user,
        "operation_name": entry.operation_name,
        "document_hash": entry.document_hash,
        "policy_version": entry.policy_version,
        "fields": list(entry.fields),
        "outcome": entry.outcome,
        "prev_hash": prev_hash,
        "hash": hash,
    }


def subject_rows(seq: int, entry: AccessEntry) -> list[tuple[int, str, str]]:
    """The access_subject rows of ``entry`` at ``seq``: (seq, kind, subject_id)."""
    rows = [(seq, PERSON, spid) for spid in entry.spids]
    rows += [(seq, HOUSEHOLD, household) for household in entry.household_ids]
    return rows


def entry_from_row(row: Mapping[str, Any], subjects: Iterable[tuple[str, str]] = ()) -> AccessEntry:
    """The entry an access_log row and its ``(kind, subject_id)`` pairs describe."""
    spids: list[str] = []
    households: list[str] = []
    for kind, subject_id in subjects:
        (spids if kind == PERSON else households).append(subject_id)
    return AccessEntry(
        at=utc(row["at"]),
        partner=row["partner"],
        purpose=row["purpose"],
        end_user=row["end_user"],
        operation_name=row["operation_name"],
        document_hash=row["document_hash"],
        policy_version=row["policy_version"],
        fields=_strings(row["fields"]),
        spids=tuple(spids),
        household_ids=tuple(households),
        outcome=row["outcome"],
    )


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(str(v) for v in value)
    raise ValueError("access_log.fields is not a JSON array")
