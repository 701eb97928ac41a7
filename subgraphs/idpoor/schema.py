"""The idpoor subgraph: ``Person.idpoor``, resolved live from the IDPoor system."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.dataloader import DataLoader

from subgraphs.idpoor.operator import IdPoorClient, OperatorError


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


def _status(household: dict[str, Any]) -> IdPoorStatus:
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
    """Per request: one loader, so every ``idpoor`` of a request is one batch."""

    households: DataLoader[str, IdPoorStatus | None]


def make_context(client: IdPoorClient) -> IdPoorContext:
    async def load(spids: list[str]) -> list[IdPoorStatus | BaseException | None]:
        try:
            found = await client.households(spids)
        except OperatorError as error:
            failure = GraphQLError(str(error), extensions={"code": error.code})
            return [failure] * len(spids)
        return [_status(h) if (h := found.get(s)) else None for s in spids]

    return IdPoorContext(households=DataLoader(load_fn=load, cache=True))


@strawberry.federation.type(keys=["spid"])
class Person:
    spid: str

    @strawberry.field(
        description="IDPoor identification of the household; null when not identified poor."
    )
    async def idpoor(self, info: strawberry.Info[IdPoorContext, Any]) -> IdPoorStatus | None:
        return await info.context.households.load(self.spid)

    @classmethod
    def resolve_reference(cls, spid: str) -> Person:
        return cls(spid=spid)


# strawberry 0.341 speaks Federation 2 by default (federation_version="2.11"); the
# enable_federation_2 flag of older releases is gone.
schema = strawberry.federation.Schema(types=[Person])
