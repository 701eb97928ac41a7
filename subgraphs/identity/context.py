"""Per request: the registry's sessions, the match model and the loaders that batch by SPID."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from identity_store import (
    HouseholdRecord,
    InvalidInput,
    InvalidSpid,
    PersonRecord,
    ProgramLinkRecord,
    households_by_ids,
    links_by_spids,
    members_of,
    people_by_spids,
    validate_spid,
)
from identity_store.matching import MatchModel


@cache
def default_match_model() -> MatchModel:
    """The model shipped with Tonle, loaded once per process."""
    return MatchModel.default()


@dataclass
class IdentityContext:
    """Per request: the registry's sessions and loaders that batch lookups by SPID."""

    sessions: async_sessionmaker[AsyncSession]
    match_model: MatchModel
    people: DataLoader[str, PersonRecord | None]
    households: DataLoader[str, HouseholdRecord | None]
    members: DataLoader[str, list[tuple[str, str]]]
    links: DataLoader[str, list[ProgramLinkRecord]]


def make_context(
    sessions: async_sessionmaker[AsyncSession], match_model: MatchModel | None = None
) -> IdentityContext:
    """A fresh context for one request: its loaders batch and cache for that request only."""

    async def load(spids: list[str]) -> list[PersonRecord | None]:
        # Strawberry resolves each _entities representation on its own; the loader
        # gathers the SPIDs of one tick into this single call, hence one SQL query.
        async with sessions() as session:
            found = await people_by_spids(session, spids)
        return [found.get(spid) for spid in spids]

    async def load_households(ids: list[str]) -> list[HouseholdRecord | None]:
        async with sessions() as session:
            found = await households_by_ids(session, ids)
        return [found.get(i) for i in ids]

    async def load_members(ids: list[str]) -> list[list[tuple[str, str]]]:
        async with sessions() as session:
            found = await members_of(session, ids)
        return [found.get(i, []) for i in ids]

    async def load_links(spids: list[str]) -> list[list[ProgramLinkRecord]]:
        async with sessions() as session:
            found = await links_by_spids(session, spids)
        return [found.get(spid, []) for spid in spids]

    return IdentityContext(
        sessions=sessions,
        match_model=match_model or default_match_model(),
        people=DataLoader(load_fn=load),
        households=DataLoader(load_fn=load_households),
        members=DataLoader(load_fn=load_members),
        links=DataLoader(load_fn=load_links),
    )


Info = strawberry.Info[IdentityContext, Any]


def checked_spid(value: str) -> str:
    """``value`` if it is a well-formed SPID, else :class:`InvalidInput` saying what is wrong."""
    try:
        return validate_spid(value)
    except InvalidSpid as error:
        raise InvalidInput(str(error)) from None
