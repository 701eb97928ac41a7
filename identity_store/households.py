"""Households: people living together, with each member's relationship to the head."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store import cursors
from identity_store.errors import AlreadyRegistered, InvalidInput, UnknownPerson
from identity_store.gazetteer import area_codes, check_village_code
from identity_store.models import RELATIONSHIPS, Household, Person, RegistrationEvent
from identity_store.repository import MAX_PAGE_SIZE, among, check_area_code, people_by_spids
from identity_store.scope import EVERYONE, Scope, in_scope
from identity_store.spid import InvalidSpid, validate_spid


@dataclass(frozen=True)
class NewHousehold:
    """A household to add: its members are registered people, one of them the head."""

    household_id: str
    village_code: str
    members: Sequence[tuple[str, str]]  # (spid, relationship to the head)


@dataclass(frozen=True)
class HouseholdRecord:
    """A household as the registry holds it."""

    household_id: str
    village_code: str
    head_spid: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class HouseholdPage:
    """One page of an area's households, in household ID order."""

    households: tuple[HouseholdRecord, ...]
    has_next_page: bool
    end_cursor: str | None


_CURSOR_PREFIX = "h1:"


def encode_household_cursor(household_id: str) -> str:
    """The opaque cursor that points after ``household_id``."""
    return cursors.encode(_CURSOR_PREFIX, household_id)


def decode_household_cursor(cursor: str) -> str:
    """The household ID a cursor points after; :class:`InvalidCursor` if not one of ours."""
    return cursors.decode(_CURSOR_PREFIX, cursor, lambda value: 0 < len(value) <= 32)


def check_new_household(household: NewHousehold) -> str:
    """The head's SPID, or :class:`InvalidInput` naming the first rule broken."""
    if not household.household_id.strip() or len(household.household_id) > 32:
        raise InvalidInput("a household ID is 1 to 32 characters.")
    check_village_code(household.village_code)
    heads = [spid for spid, relationship in household.members if relationship == "head"]
    if len(heads) != 1:
        raise InvalidInput("a household has exactly one member whose relationship is head.")
    for spid, relationship in household.members:
        try:
            validate_spid(spid)
        except InvalidSpid as error:
            raise InvalidInput(str(error)) from None
        if relationship not in RELATIONSHIPS:
            raise InvalidInput(
                f"relationship {relationship!r} is not one of {', '.join(RELATIONSHIPS)}."
            )
    return heads[0]


async def add_households(
    sessions: async_sessionmaker[AsyncSession], households: Iterable[NewHousehold]
) -> int:
    """Add households and set their members' membership, in one transaction."""
    batch = list(households)
    heads = [check_new_household(h) for h in batch]
    members = [(spid, h.household_id, rel) for h in batch for spid, rel in h.members]
    async with sessions.begin() as session:
        spids = sorted({spid for spid, _, _ in members})
        known = set(
            await session.scalars(select(Person.spid).where(among(session, Person.spid, spids)))
        )
        missing = [spid for spid in spids if spid not in known]
        if missing:
            raise UnknownPerson(
                f"{len(missing)} household member(s) are not registered (first: {missing[0]}); "
                "register people before grouping them into households."
            )
        try:
            await session.execute(
                insert(Household),
                [
                    {
                        "household_id": h.household_id,
                        "village_code": h.village_code,
                        "head_spid": head,
                        **area_codes(h.village_code),
                    }
                    for h, head in zip(batch, heads, strict=True)
                ],
            )
        except IntegrityError:
            raise AlreadyRegistered(
                "a household ID in this batch is already registered; use another ID."
            ) from None
        # One statement whatever the number of members (executemany).
        await session.execute(
            update(Person),
            [
                {"spid": spid, "household_id": household_id, "relationship": relationship}
                for spid, household_id, relationship in members
            ],
        )
        await session.execute(
            insert(RegistrationEvent),
            [
                {"spid": spid, "kind": "household", "detail": {"household_id": hid}}
                for spid, hid, _ in members
            ],
        )
    return len(batch)


async def households_by_ids(
    session: AsyncSession, household_ids: Iterable[str], *, scope: Scope = EVERYONE
) -> dict[str, HouseholdRecord]:
    """The households among ``household_ids``, in one query (two under a restricted scope).

    Under ``scope`` a household exists when at least one of its members is in scope, and
    its ``head_spid`` is None when the head is not.
    """
    wanted = sorted(set(household_ids))
    if not wanted:
        return {}
    query = select(Household).where(among(session, Household.household_id, wanted))
    if not scope.unrestricted:
        query = query.where(_visible(scope))
    found = {
        row.household_id: HouseholdRecord(
            row.household_id, row.village_code, row.head_spid, row.created_at
        )
        for row in await session.scalars(query)
    }
    if scope.unrestricted:
        return found
    heads = {h.head_spid for h in found.values() if h.head_spid is not None}
    seen = await people_by_spids(session, heads, scope=scope) if heads else {}
    return {
        hid: h if h.head_spid in seen else replace(h, head_spid=None) for hid, h in found.items()
    }


async def members_of(
    session: AsyncSession, household_ids: Iterable[str], *, scope: Scope = EVERYONE
) -> dict[str, list[tuple[str, str]]]:
    """Each household's members in ``scope`` as (spid, relationship), head first, in one query.

    Merged SPIDs are left out: their survivor stands for them.
    """
    wanted = sorted(set(household_ids))
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    if not wanted:
        return found
    query = select(Person.household_id, Person.spid, Person.relationship).where(
        among(session, Person.household_id, wanted), Person.status != "merged"
    )
    if not scope.unrestricted:
        query = query.where(in_scope(scope))
    rows = await session.execute(query.order_by(Person.household_id, Person.spid))
    for household_id, spid, relationship in rows:
        found[str(household_id)].append((spid, relationship or "other"))
    for members in found.values():
        members.sort(key=lambda member: member[1] != "head")
    return found


def _area_column(level: str) -> Any:
    return {
        "village": Household.village_code,
        "commune": Household.commune_code,
        "district": Household.district_code,
        "province": Household.province_code,
    }[level]


def _visible(scope: Scope) -> ColumnElement[bool]:
    """A household exists for ``scope`` when one of its members (merged aside) is in it."""
    return exists().where(
        Person.household_id == Household.household_id,
        Person.status != "merged",
        in_scope(scope),
    )


async def households_in_area(
    session: AsyncSession,
    level: str,
    code: str,
    first: int,
    after: str | None = None,
    *,
    scope: Scope = EVERYONE,
) -> HouseholdPage:
    """One page of the households of a village, commune, district or province, by ID.

    Keyset pagination over the index ``(<level>_code, household_id)``. Under ``scope`` a
    household is listed when one of its members is in scope, and its ``head_spid`` is
    None when the head is not (as :func:`households_by_ids` answers).
    """
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE_SIZE}; got {first}.")
    check_area_code(level, code)
    query = select(
        Household.household_id, Household.village_code, Household.head_spid, Household.created_at
    ).where(_area_column(level) == code)
    if not scope.unrestricted:
        query = query.where(_visible(scope))
    if after is not None:
        query = query.where(Household.household_id > decode_household_cursor(after))
    rows = (await session.execute(query.order_by(Household.household_id).limit(first + 1))).all()
    found = tuple(HouseholdRecord(*row) for row in rows[:first])
    if not scope.unrestricted:
        heads = {h.head_spid for h in found if h.head_spid is not None}
        seen = await people_by_spids(session, heads, scope=scope) if heads else {}
        found = tuple(h if h.head_spid in seen else replace(h, head_spid=None) for h in found)
    return HouseholdPage(
        households=found,
        has_next_page=len(rows) > first,
        end_cursor=encode_household_cursor(found[-1].household_id) if found else None,
    )


async def count_households(
    session: AsyncSession, area: tuple[str, str], *, scope: Scope = EVERYONE
) -> int:
    """How many households an area holds (``(level, code)``), counting only those in scope."""
    query = select(func.count()).select_from(Household).where(_area_column(area[0]) == area[1])
    if not scope.unrestricted:
        query = query.where(_visible(scope))
    return int(await session.scalar(query) or 0)
