"""Programme links and registration history, as the registry holds them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from identity_store.models import ProgramLink, RegistrationEvent
from identity_store.repository import among


@dataclass(frozen=True)
class ProgramLinkRecord:
    """An operator knows this person under ``local_id`` in ``programme``. Identifiers only."""

    spid: str
    operator: str
    programme: str
    local_id: str
    status: str
    since: dt.date | None
    registered_spid: str  # the SPID the operator registered; differs after a merge


@dataclass(frozen=True)
class EventRecord:
    """One entry of a person's history: what happened, who did it, from which operator."""

    spid: str
    kind: str
    at: dt.datetime
    operator: str | None
    actor: str | None
    other_spid: str | None
    detail: dict[str, Any]


async def links_by_spids(
    session: AsyncSession, spids: Iterable[str]
) -> dict[str, list[ProgramLinkRecord]]:
    """The programme links of each SPID, in one query."""
    wanted = sorted(set(spids))
    found: dict[str, list[ProgramLinkRecord]] = defaultdict(list)
    if not wanted:
        return found
    rows = await session.scalars(
        select(ProgramLink).where(among(session, ProgramLink.spid, wanted)).order_by(ProgramLink.id)
    )
    for row in rows:
        found[row.spid].append(
            ProgramLinkRecord(
                spid=row.spid,
                operator=row.operator,
                programme=row.programme,
                local_id=row.local_id,
                status=row.status,
                since=row.since,
                registered_spid=row.origin_spid,
            )
        )
    return found


async def history_of(session: AsyncSession, spid: str, limit: int = 100) -> list[EventRecord]:
    """The latest ``limit`` events of ``spid``'s history, oldest first."""
    rows = list(
        await session.scalars(
            select(RegistrationEvent)
            .where(RegistrationEvent.spid == spid)
            .order_by(RegistrationEvent.id.desc())
            .limit(limit)
        )
    )
    return [
        EventRecord(
            spid=row.spid,
            kind=row.kind,
            at=row.at,
            operator=row.operator,
            actor=row.actor,
            other_spid=row.other_spid,
            detail=row.detail or {},
        )
        for row in reversed(rows)
    ]
