"""Programme links and registration history, as the registry holds them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from identity_store.models import ProgramLink, RegistrationEvent
from identity_store.repository import among, people_by_spids
from identity_store.scope import EVERYONE, Scope


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
    session: AsyncSession, spids: Iterable[str], *, scope: Scope = EVERYONE
) -> dict[str, list[ProgramLinkRecord]]:
    """The programme links of each SPID, in one query.

    A link's ``registered_spid`` is another SPID only after a merge, and then resolves
    to the link's holder; under a restricted ``scope`` a link whose registered SPID does
    not resolve into scope is left out rather than name a person the caller cannot see
    (one more query, only when some link was registered to another SPID).
    """
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
    if scope.unrestricted:
        return found
    others = {
        link.registered_spid
        for links in found.values()
        for link in links
        if link.registered_spid != link.spid
    }
    if not others:
        return found
    seen = await people_by_spids(session, others, scope=scope)
    return {
        spid: [
            link for link in links if link.registered_spid == spid or link.registered_spid in seen
        ]
        for spid, links in found.items()
    }


async def history_of(
    session: AsyncSession, spid: str, limit: int = 100, *, scope: Scope = EVERYONE
) -> list[EventRecord]:
    """The latest ``limit`` events of ``spid``'s history, oldest first.

    Under a restricted ``scope`` an event keeps its place but its ``other_spid`` is None
    when that SPID does not resolve into scope: history never names a person the caller
    cannot see.
    """
    rows = list(
        await session.scalars(
            select(RegistrationEvent)
            .where(RegistrationEvent.spid == spid)
            .order_by(RegistrationEvent.id.desc())
            .limit(limit)
        )
    )
    events = [
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
    others = {event.other_spid for event in events if event.other_spid is not None}
    if scope.unrestricted or not others:
        return events
    seen = await people_by_spids(session, others, scope=scope)
    return [
        event
        if event.other_spid is None or event.other_spid in seen
        else replace(event, other_spid=None)
        for event in events
    ]
