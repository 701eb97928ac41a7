"""Merging two SPIDs of one person, and undoing it.

One SPID survives; the other keeps resolving to it (queries, ``_entities``, Khmer ID
lookups), its programme links move to the survivor, and history records both sides.
Unmerge restores the merged SPID with its status and its links.

Under a restricted scope a SPID the caller cannot see is refused exactly as an unknown
one (same error, same message), and nothing is changed.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store.errors import InvalidInput, NotMergeable, UnknownPerson
from identity_store.hygiene import check_text
from identity_store.models import Person, ProgramLink, RegistrationEvent
from identity_store.repository import PersonRecord, among, people_by_spids
from identity_store.scope import EVERYONE, Scope
from identity_store.spid import InvalidSpid, validate_spid


def check_decision(decided_by: str, reason: str) -> None:
    """Who decided and why are recorded with every merge; both must be given."""
    if not decided_by.strip() or len(decided_by) > 64:
        raise InvalidInput("decidedBy names who decided (1 to 64 characters).")
    if not reason.strip() or len(reason) > 500:
        raise InvalidInput("reason says why (1 to 500 characters).")
    check_text(decided_by, "decidedBy")
    check_text(reason, "reason", multiline=True)


def _spid(value: str) -> str:
    try:
        return validate_spid(value)
    except InvalidSpid as error:
        raise InvalidInput(str(error)) from None


def unknown_person(spid: str) -> UnknownPerson:
    """The one error for a SPID no one holds, or that the caller's scope does not admit."""
    return UnknownPerson(f"no one in the registry has SPID {spid}; check the SPID.")


async def _person(session: AsyncSession, spid: str, scope: Scope) -> Person:
    row = await session.scalar(select(Person).where(Person.spid == spid).with_for_update())
    if row is None:
        raise unknown_person(spid)
    if not scope.unrestricted and spid not in await people_by_spids(session, [spid], scope=scope):
        raise unknown_person(spid)
    return row


async def merge_people(
    sessions: async_sessionmaker[AsyncSession],
    survivor: str,
    merged: str,
    decided_by: str,
    reason: str,
    *,
    scope: Scope = EVERYONE,
) -> PersonRecord:
    """Merge ``merged`` into ``survivor``; returns the survivor.

    Both SPIDs must be in ``scope`` (a merged SPID: its survivor); one that is not is
    refused as unknown.
    """
    async with sessions.begin() as session:
        await merge_in(session, survivor, merged, decided_by, reason, scope=scope)
    async with sessions() as session:
        return (await people_by_spids(session, [survivor]))[survivor]


async def merge_in(
    session: AsyncSession,
    survivor: str,
    merged: str,
    decided_by: str,
    reason: str,
    *,
    scope: Scope = EVERYONE,
) -> None:
    """The merge, inside the caller's transaction."""
    check_decision(decided_by, reason)
    survivor, merged = _spid(survivor), _spid(merged)
    if survivor == merged:
        raise NotMergeable("a person cannot be merged into themselves; give two SPIDs.")
    keep = await _person(session, survivor, scope)
    gone = await _person(session, merged, scope)
    if gone.status == "merged":
        raise NotMergeable(
            f"SPID {merged} is already merged into {gone.merged_into}; unmerge it first."
        )
    if keep.status == "merged":
        raise NotMergeable(
            f"SPID {survivor} was itself merged into {keep.merged_into}; "
            f"merge into {keep.merged_into} instead."
        )
    if keep.khmer_id and gone.khmer_id and keep.khmer_id != gone.khmer_id:
        raise NotMergeable(
            "these two people hold different Khmer IDs, so they are two people; "
            "if an ID is wrong, correct it at the Ministry of Interior first."
        )
    previous = gone.status
    gone.status = "merged"
    gone.merged_into = survivor
    await session.execute(
        update(ProgramLink).where(ProgramLink.spid == merged).values(spid=survivor)
    )
    detail = {"reason": reason, "previous_status": previous}
    await session.execute(
        insert(RegistrationEvent),
        [
            {
                "spid": merged,
                "kind": "merged",
                "actor": decided_by,
                "other_spid": survivor,
                "detail": detail,
            },
            {
                "spid": survivor,
                "kind": "absorbed",
                "actor": decided_by,
                "other_spid": merged,
                "detail": {"reason": reason},
            },
        ],
    )


async def unmerge_person(
    sessions: async_sessionmaker[AsyncSession],
    spid: str,
    decided_by: str,
    reason: str,
    *,
    scope: Scope = EVERYONE,
) -> PersonRecord:
    """Undo the merge of ``spid``: it stands for itself again, with its programme links.

    ``spid`` must be in ``scope`` (through its survivor) or it is refused as unknown, and
    must still be in scope once it stands for itself, or nothing is changed.
    """
    check_decision(decided_by, reason)
    spid = _spid(spid)
    async with sessions.begin() as session:
        row = await _person(session, spid, scope)
        if row.status != "merged" or row.merged_into is None:
            raise NotMergeable(f"SPID {spid} is not merged; there is nothing to undo.")
        survivor = row.merged_into
        # Unmerging is a person's decision that these are two people: a SPID merged
        # while provisional comes back as an ordinary one.
        row.status = "active"
        row.merged_into = None
        # The people merged into this one come back with it, links and all.
        family = await _merged_into(session, spid)
        await session.execute(
            update(ProgramLink)
            .where(among(session, ProgramLink.origin_spid, sorted(family)))
            .values(spid=spid)
        )
        await session.execute(
            insert(RegistrationEvent),
            [
                {
                    "spid": spid,
                    "kind": "unmerged",
                    "actor": decided_by,
                    "other_spid": survivor,
                    "detail": {"reason": reason},
                },
                {
                    "spid": survivor,
                    "kind": "split",
                    "actor": decided_by,
                    "other_spid": spid,
                    "detail": {"reason": reason},
                },
            ],
        )
        if not scope.unrestricted and not await people_by_spids(session, [spid], scope=scope):
            # Raised inside the transaction: it rolls back and nothing is changed.
            raise NotMergeable(
                f"SPID {spid} would be outside what you may see once it stands for "
                "itself; ask registry staff to unmerge it."
            )
    async with sessions() as session:
        return (await people_by_spids(session, [spid]))[spid]


async def _merged_into(session: AsyncSession, spid: str) -> set[str]:
    """``spid`` and every SPID merged into it, directly or through a chain."""
    family = {spid}
    frontier = [spid]
    while frontier:
        rows = await session.scalars(
            select(Person.spid).where(among(session, Person.merged_into, frontier))
        )
        frontier = [s for s in rows if s not in family]
        family.update(frontier)
    return family
