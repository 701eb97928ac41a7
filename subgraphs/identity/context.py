"""Per request: who calls, what they may see, the registry's sessions and the loaders.

The caller comes from the headers the gateway signs (``policies.caller``); its row scope
goes into every lookup the loaders make, so a person outside it is absent exactly as an
unknown one. A request without caller headers comes from a gateway in ``--open`` mode:
no restriction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import strawberry
from cross_web import HTTPException
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from identity_store import (
    EVERYONE,
    HouseholdRecord,
    InvalidInput,
    InvalidSpid,
    PersonRecord,
    ProgramLinkRecord,
    Scope,
    households_by_ids,
    links_by_spids,
    members_of,
    people_by_spids,
    validate_spid,
)
from identity_store.matching import MatchModel
from policies.caller import Caller, MalformedCallerHeader, RowScope


@cache
def default_match_model() -> MatchModel:
    """The model shipped with Tonle, loaded once per process."""
    return MatchModel.default()


def caller_of(headers: Mapping[str, str]) -> Caller:
    """The caller a request's headers name; a malformed header is answered 400.

    Only a gateway bug sends one (the signature covers these headers), and guessing
    what it meant could show a partner more than its scope.
    """
    try:
        return Caller.from_headers(headers)
    except MalformedCallerHeader as error:
        # strawberry's HTTP view answers this exception with its status and reason.
        raise HTTPException(400, str(error)) from None


def scope_of(row_scope: RowScope) -> Scope:
    """The registry's scope for the gateway's row scope."""
    if row_scope.unrestricted:
        return EVERYONE
    return Scope(areas=row_scope.areas, operator=row_scope.operator)


@dataclass
class IdentityContext:
    """Per request: the caller, its scope, the registry's sessions and loaders by SPID."""

    sessions: async_sessionmaker[AsyncSession]
    match_model: MatchModel
    caller: Caller
    scope: Scope
    people: DataLoader[str, PersonRecord | None]
    households: DataLoader[str, HouseholdRecord | None]
    members: DataLoader[str, list[tuple[str, str]]]
    links: DataLoader[str, list[ProgramLinkRecord]]


def make_context(
    sessions: async_sessionmaker[AsyncSession],
    match_model: MatchModel | None = None,
    caller: Caller | None = None,
) -> IdentityContext:
    """A fresh context for one request: its loaders batch and cache for that request only.

    Everything they load is limited to ``caller``'s row scope (none: ``--open``).
    """
    caller = caller or Caller()
    scope = scope_of(caller.scope)

    async def load(spids: list[str]) -> list[PersonRecord | None]:
        # Strawberry resolves each _entities representation on its own; the loader
        # gathers the SPIDs of one tick into this single call, hence one SQL query.
        async with sessions() as session:
            found = await people_by_spids(session, spids, scope=scope)
        return [found.get(spid) for spid in spids]

    async def load_households(ids: list[str]) -> list[HouseholdRecord | None]:
        async with sessions() as session:
            found = await households_by_ids(session, ids, scope=scope)
        return [found.get(i) for i in ids]

    async def load_members(ids: list[str]) -> list[list[tuple[str, str]]]:
        async with sessions() as session:
            found = await members_of(session, ids, scope=scope)
        return [found.get(i, []) for i in ids]

    async def load_links(spids: list[str]) -> list[list[ProgramLinkRecord]]:
        async with sessions() as session:
            found = await links_by_spids(session, spids, scope=scope)
        return [found.get(spid, []) for spid in spids]

    return IdentityContext(
        sessions=sessions,
        match_model=match_model or default_match_model(),
        caller=caller,
        scope=scope,
        people=DataLoader(load_fn=load),
        households=DataLoader(load_fn=load_households),
        members=DataLoader(load_fn=load_members),
        links=DataLoader(load_fn=load_links),
    )


Info = strawberry.Info[IdentityContext, Any]


async def visible_spid(info: Info, spid: str | None) -> str | None:
    """``spid`` when it answers someone in the caller's scope (through the loader), else None."""
    if spid is None or info.context.scope.unrestricted:
        return spid
    return spid if await info.context.people.load(spid) is not None else None


def checked_spid(value: str) -> str:
    """``value`` if it is a well-formed SPID, else :class:`InvalidInput` saying what is wrong."""
    try:
        return validate_spid(value)
    except InvalidSpid as error:
        raise InvalidInput(str(error)) from None
