"""The idpoor subgraph: ``Person.idpoor`` and ``Household.idpoor``, live from the IDPoor system."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader

from identity_store.spid import is_valid_spid
from subgraphs.fast_path import batch_resolver
from subgraphs.operator import (
    OperatorCall,
    OperatorSchema,
    OperatorSubgraph,
    load_each,
    operator_loader,
)

BY_MEMBER_PATH = "/v1/households/by-member"
BY_ID_PATH = "/v1/households/by-id"


@strawberry.type(
    description="The household's IDPoor identification, from the Ministry of Planning."
)
class IdPoorStatus:
    household_id: str
    level: int = strawberry.field(description="1: very poor; 2: poor.")
    equity_card_number: str
    valid_from: dt.date
    valid_until: dt.date
    round: str = strawberry.field(
        description='How the household was identified: "regular" or "on_demand".'
    )

    @strawberry.field(description="Whether the Equity Card is valid today.")
    def card_valid_today(self) -> bool:
        return self.valid_from <= dt.date.today() <= self.valid_until


def _status(household: dict[str, Any] | None) -> IdPoorStatus | None:
    if household is None:
        return None
    return IdPoorStatus(
        household_id=household["household_id"],
        level=int(household["level"]),
        equity_card_number=household["equity_card_number"],
        valid_from=dt.date.fromisoformat(household["valid_from"]),
        valid_until=dt.date.fromisoformat(household["valid_until"]),
        round=str(household.get("round", "regular")),
    )


@dataclass
class IdPoorContext:
    """Per request: one loader per key, so every ``idpoor`` of a request is one batch."""

    by_member: DataLoader[str, IdPoorStatus | None]
    by_household: DataLoader[str, IdPoorStatus | None]


def make_context(call: OperatorCall) -> IdPoorContext:
    async def by_member(spids: Sequence[str]) -> list[IdPoorStatus | None]:
        results = await call.client.batch(BY_MEMBER_PATH, "spids", spids, caller=call.caller)
        return [_status(r["household"]) for r in results]

    async def by_household(ids: Sequence[str]) -> list[IdPoorStatus | None]:
        results = await call.client.batch(BY_ID_PATH, "household_ids", ids, caller=call.caller)
        return [_status(r["household"]) for r in results]

    return IdPoorContext(
        operator_loader(by_member, valid=is_valid_spid), operator_loader(by_household)
    )


async def _by_members(
    people: Sequence[Person], info: strawberry.Info[IdPoorContext, Any]
) -> list[IdPoorStatus | BaseException | None]:
    return await load_each(info.context.by_member, [person.spid for person in people])


async def _by_households(
    households: Sequence[Household], info: strawberry.Info[IdPoorContext, Any]
) -> list[IdPoorStatus | BaseException | None]:
    ids = [household.household_id for household in households]
    return await load_each(info.context.by_household, ids)


@strawberry.federation.type(keys=["spid"])
class Person:
    spid: str

    @strawberry.field(
        description="IDPoor identification of the household; null when not identified poor.",
        metadata=batch_resolver(_by_members),
    )
    async def idpoor(self, info: strawberry.Info[IdPoorContext, Any]) -> IdPoorStatus | None:
        return await info.context.by_member.load(self.spid)

    @classmethod
    def resolve_reference(cls, spid: str) -> Person:
        return cls(spid=spid)


@strawberry.federation.type(keys=["householdId"])
class Household:
    household_id: str

    @strawberry.field(
        description="The household's IDPoor identification; null when not poor.",
        metadata=batch_resolver(_by_households),
    )
    async def idpoor(self, info: strawberry.Info[IdPoorContext, Any]) -> IdPoorStatus | None:
        return await info.context.by_household.load(self.household_id)

    @classmethod
    def resolve_reference(cls, householdId: str) -> Household:  # the key as it is sent
        return cls(household_id=householdId)


# strawberry 0.341 speaks Federation 2 by default (federation_version="2.11"); the
# enable_federation_2 flag of older releases is gone.
schema = OperatorSchema(types=[Person, Household])

IDPOOR = OperatorSubgraph("idpoor", "the IDPoor system", schema, make_context, port=4002)
