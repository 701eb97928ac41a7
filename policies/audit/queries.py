"""Reading the access log: who saw one person's (or household's) data, and a search.

Both give the newest records first, in pages; a page names the records, never the other
people a record returned. ``who_saw`` goes through the ``(kind, subject_id, seq)`` index
of access_subject, so it costs the same in a log of millions.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from policies.audit.errors import InvalidAccessCursor
from policies.audit.records import PERSON, SUBJECT_KINDS, utc
from policies.models import AccessRecord, AccessSubject

Sessions = async_sessionmaker[AsyncSession]

MAX_PAGE_SIZE = 1000
_CURSOR_PREFIX = "access-log:"

_LOG = AccessRecord.metadata.tables["access_log"]
_SUBJECTS = AccessSubject.metadata.tables["access_subject"]


@dataclass(frozen=True)
class AccessSummary:
    """One logged request, without its subjects: who, why, when, what, with which outcome."""

    seq: int
    at: dt.datetime
    partner: str
    purpose: str
    end_user: str | None
    operation_name: str | None
    document_hash: str
    policy_version: int | None
    fields: tuple[str, ...]
    outcome: str


@dataclass(frozen=True)
class AccessPage:
    """A page of records, newest first; pass ``end_cursor`` as ``after`` for the next one."""

    accesses: tuple[AccessSummary, ...]
    end_cursor: str | None
    has_next_page: bool


async def who_saw(
    sessions: Sessions,
    subject_id: str,
    since: dt.datetime | None = None,
    *,
    kind: str = PERSON,
    first: int = 100,
    after: str | None = None,
) -> AccessPage:
    """Every request that returned this person's (``kind="household"``: household's) data."""
    if kind not in SUBJECT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(SUBJECT_KINDS)}")
    s = _SUBJECTS.c
    query = (
        select(_LOG)
        .join(_SUBJECTS, s.seq == _LOG.c.seq)
        .where(s.kind == kind, s.subject_id == subject_id)
        .order_by(s.seq.desc())
    )
    if after is not None:
        query = query.where(s.seq < decode_cursor(after))
    if since is not None:
        query = query.where(_LOG.c.at >= _utc_bound("since", since))
    return await _page(sessions, query, first)


async def search_accesses(
    sessions: Sessions,
    *,
    partner: str | None = None,
    purpose: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    subject: str | None = None,
    kind: str = PERSON,
    first: int = 100,
    after: str | None = None,
) -> AccessPage:
    """The records of a partner, a purpose and a time range ``[since, until)``, newest first;
    with ``subject``, only those that returned that person's (household's) data."""
    c = _LOG.c
    query = select(_LOG).order_by(c.seq.desc())
    if subject is not None:
        if kind not in SUBJECT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(SUBJECT_KINDS)}")
        s = _SUBJECTS.c
        query = query.join(_SUBJECTS, s.seq == c.seq).where(s.kind == kind, s.subject_id == subject)
    if partner is not None:
        query = query.where(c.partner == partner)
    if purpose is not None:
        query = query.where(c.purpose == purpose)
    if since is not None:
        query = query.where(c.at >= _utc_bound("since", since))
    if until is not None:
        query = query.where(c.at < _utc_bound("until", until))
    if after is not None:
        query = query.where(c.seq < decode_cursor(after))
    return await _page(sessions, query, first)


async def _page(sessions: Sessions, query: Select[Any], first: int) -> AccessPage:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise ValueError(f"first must be between 1 and {MAX_PAGE_SIZE}")
    async with sessions() as session:
        rows = (await session.execute(query.limit(first + 1))).mappings().all()
    accesses = tuple(_summary(row) for row in rows[:first])
    more = len(rows) > first
    cursor = encode_cursor(accesses[-1].seq) if accesses else None
    return AccessPage(accesses, cursor, more)


def _summary(row: Mapping[str, Any]) -> AccessSummary:
    return AccessSummary(
        seq=row["seq"],
        at=utc(row["at"]),
        partner=row["partner"],
        purpose=row["purpose"],
        end_user=row["end_user"],
        operation_name=row["operation_name"],
        document_hash=row["document_hash"],
        policy_version=row["policy_version"],
        fields=tuple(row["fields"]),
        outcome=row["outcome"],
    )


def _utc_bound(name: str, value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    # SQLite compares the stored UTC text: the bound must be UTC too.
    return value.astimezone(dt.UTC)


def encode_cursor(seq: int) -> str:
    """The opaque cursor that points after (older than) record ``seq``."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The seq a cursor points after; :class:`InvalidAccessCursor` if it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    value = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not value.isascii() or not value.isdigit():
        raise InvalidAccessCursor(
            "this cursor was not issued by the access log; pass the endCursor of the previous "
            "page, or no cursor to start from the newest record."
        )
    return int(value)
