"""Review cases: registrations the matcher could not decide, and people's decisions on them.

Under a restricted scope a case exists only when both its people are in scope (each SPID
or, once merged, its survivor): a decision needs both records, and deciding one merges
or separates both. A case outside the scope is listed nowhere and is refused as unknown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from identity_store import cursors
from identity_store.errors import InvalidInput, NotMergeable
from identity_store.matching import FieldAgreement
from identity_store.merges import check_decision, merge_in
from identity_store.models import CASE_STATUSES, Person, RegistrationEvent, ReviewCase
from identity_store.repository import MAX_PAGE_SIZE, people_by_spids, resolve_spids
from identity_store.scope import EVERYONE, Scope, may_resolve

_CURSOR_PREFIX = "rc1:"


@dataclass(frozen=True)
class ReviewCaseRecord:
    """A provisional SPID, the person it may be, the score, and the decision once taken."""

    id: int
    spid: str
    candidate_spid: str
    probability: float
    weight: float
    reasons: tuple[FieldAgreement, ...]
    status: str
    opened_at: dt.datetime
    resolved_by: str | None
    resolved_at: dt.datetime | None
    resolution_reason: str | None


@dataclass(frozen=True)
class ReviewCasePage:
    """One page of review cases, oldest first."""

    cases: tuple[ReviewCaseRecord, ...]
    has_next_page: bool
    end_cursor: str | None


def _record(row: ReviewCase) -> ReviewCaseRecord:
    return ReviewCaseRecord(
        id=row.id,
        spid=row.spid,
        candidate_spid=row.candidate_spid,
        probability=row.probability,
        weight=row.weight,
        reasons=tuple(
            FieldAgreement(r["comparison"], r["level"], r["weight"])
            for r in row.reasons.get("reasons", [])
        ),
        status=row.status,
        opened_at=row.opened_at,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        resolution_reason=row.resolution_reason,
    )


def encode_case_cursor(case_id: int) -> str:
    """The opaque cursor pointing after review case ``case_id``."""
    return cursors.encode(_CURSOR_PREFIX, str(case_id))


def decode_case_cursor(cursor: str) -> int:
    """The case id a cursor points after; :class:`InvalidCursor` if it is not one of ours."""
    return int(cursors.decode(_CURSOR_PREFIX, cursor, lambda v: v.isascii() and v.isdigit()))


async def review_cases(
    session: AsyncSession,
    status: str = "open",
    first: int = 20,
    after: str | None = None,
    *,
    scope: Scope = EVERYONE,
) -> ReviewCasePage:
    """Review cases with ``status`` whose two people are in ``scope``, oldest first, by pages.

    The scope is part of the statement (both people in scope, or merged); cases whose
    merged SPIDs resolve out of scope are dropped afterwards and the page is refilled,
    so a page is full whenever more cases follow.
    """
    if status not in CASE_STATUSES:
        raise InvalidInput(f"status {status!r} is not one of {', '.join(CASE_STATUSES)}.")
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE_SIZE}; got {first}.")
    last = decode_case_cursor(after) if after is not None else None
    cases: list[ReviewCase] = []
    while len(cases) <= first:
        query = _scoped_cases(select(ReviewCase).where(ReviewCase.status == status), scope)
        if last is not None:
            query = query.where(ReviewCase.id > last)
        rows = list(await session.scalars(query.order_by(ReviewCase.id).limit(first + 1)))
        if not rows:
            break
        last = rows[-1].id
        cases += await _visible(session, rows, scope)
        if len(rows) <= first:
            break
    page = tuple(_record(row) for row in cases[:first])
    return ReviewCasePage(
        cases=page,
        has_next_page=len(cases) > first,
        end_cursor=encode_case_cursor(page[-1].id) if page else None,
    )


def _scoped_cases(query: Select[ReviewCase], scope: Scope) -> Select[ReviewCase]:
    if scope.unrestricted:
        return query
    provisional, candidate = aliased(Person), aliased(Person)
    return (
        query.join(provisional, provisional.spid == ReviewCase.spid)
        .join(candidate, candidate.spid == ReviewCase.candidate_spid)
        .where(may_resolve(scope, provisional), may_resolve(scope, candidate))
    )


async def _visible(session: AsyncSession, rows: list[ReviewCase], scope: Scope) -> list[ReviewCase]:
    """The cases among ``rows`` whose two people resolve into ``scope``."""
    if scope.unrestricted:
        return rows
    spids = {spid for row in rows for spid in (row.spid, row.candidate_spid)}
    seen = await people_by_spids(session, spids, scope=scope)
    return [row for row in rows if row.spid in seen and row.candidate_spid in seen]


async def review_case(
    session: AsyncSession, case_id: int, *, scope: Scope = EVERYONE
) -> ReviewCaseRecord | None:
    """One review case by id; None when there is none, or it is outside ``scope``."""
    row = await session.get(ReviewCase, case_id)
    if row is None or not await _visible(session, [row], scope):
        return None
    return _record(row)


def unknown_case(case_id: int) -> InvalidInput:
    """The one error for a case that does not exist, or that the caller's scope hides."""
    return InvalidInput(f"there is no review case {case_id}; list the open cases.")


async def resolve_review_case(
    sessions: async_sessionmaker[AsyncSession],
    case_id: int,
    same_person: bool,
    decided_by: str,
    reason: str,
    *,
    scope: Scope = EVERYONE,
) -> ReviewCaseRecord:
    """Decide a case: the same person (merge into the candidate) or two people.

    The candidate, registered first, survives a merge. Two people: the provisional SPID
    becomes an ordinary one. Who decided and why is stored on the case and in history.
    A case outside ``scope`` is refused exactly as one that does not exist.
    """
    check_decision(decided_by, reason)
    async with sessions.begin() as session:
        row = await session.scalar(
            select(ReviewCase).where(ReviewCase.id == case_id).with_for_update()
        )
        if row is None or not await _visible(session, [row], scope):
            raise unknown_case(case_id)
        if row.status != "open":
            raise NotMergeable(
                f"review case {case_id} was already decided ({row.status}) by "
                f"{row.resolved_by}; unmerge or merge the people directly to change it."
            )
        if same_person:
            state = await session.execute(
                select(Person.status, Person.merged_into).where(Person.spid == row.candidate_spid)
            )
            status, merged_into = state.one()
            survivors = await resolve_spids(session, {row.candidate_spid: (status, merged_into)})
            await merge_in(
                session, survivors[row.candidate_spid], row.spid, decided_by, reason, scope=scope
            )
        else:
            person = await session.get(Person, row.spid)
            if person is not None and person.status == "provisional":
                person.status = "active"
            await session.execute(
                insert(RegistrationEvent),
                [
                    {
                        "spid": row.spid,
                        "kind": "kept_apart",
                        "actor": decided_by,
                        "other_spid": row.candidate_spid,
                        "detail": {"reason": reason, "review_case": case_id},
                    }
                ],
            )
        row.status = "same_person" if same_person else "different_people"
        row.resolved_by = decided_by
        row.resolved_at = dt.datetime.now(dt.UTC)
        row.resolution_reason = reason
        await session.flush()
        return _record(row)
