"""The identity subgraph's schema: ``Person @key(fields: "spid")`` over the registry."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader
from strawberry.types import ExecutionContext

from identity_store import (
    MAX_PAGE_SIZE,
    InvalidInput,
    InvalidSpid,
    PersonRecord,
    count_people,
    encode_cursor,
    people_by_spids,
    people_in_village,
    validate_spid,
)
from subgraphs.identity.errors import RegistryErrors, log_unexpected


@dataclass
class IdentityContext:
    """Per request: the registry's sessions and a loader that batches SPID lookups."""

    sessions: async_sessionmaker[AsyncSession]
    people: DataLoader[str, PersonRecord | None]


def make_context(sessions: async_sessionmaker[AsyncSession]) -> IdentityContext:
    """A fresh context for one request: its loader batches and caches for that request only."""

    async def load(spids: list[str]) -> list[PersonRecord | None]:
        # Strawberry resolves each _entities representation on its own; the loader
        # gathers the SPIDs of one tick into this single call, hence one SQL query.
        async with sessions() as session:
            found = await people_by_spids(session, spids)
        return [found.get(spid) for spid in spids]

    return IdentityContext(sessions=sessions, people=DataLoader(load_fn=load))


@strawberry.enum(description="Sex as registered.")
class Sex(enum.Enum):
    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


@strawberry.federation.type(
    keys=["spid"], description="A registrant of the social protection registry."
)
class Person:
    spid: str = strawberry.field(
        description="Social Protection ID: 12 digits, the last a check digit."
    )
    khmer_id: str | None = strawberry.field(description="Khmer ID (9 digits), from age 15 only.")
    family_name: str
    given_name: str
    birth_date: dt.date
    sex: Sex
    village_code: str = strawberry.field(description="Gazetteer village code, 8 digits.")

    @classmethod
    def from_record(cls, record: PersonRecord) -> Person:
        return cls(
            spid=record.spid,
            khmer_id=record.khmer_id,
            family_name=record.family_name,
            given_name=record.given_name,
            birth_date=record.birth_date,
            sex=Sex(record.sex),
            village_code=record.village_code,
        )

    @classmethod
    async def resolve_reference(
        cls, info: strawberry.Info[IdentityContext, Any], spid: str
    ) -> Person | None:
        record = await info.context.people.load(spid)
        return cls.from_record(record) if record is not None else None


@strawberry.type
class PersonEdge:
    cursor: str
    node: Person


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class PersonConnection:
    edges: list[PersonEdge]
    page_info: PageInfo
    village_code: strawberry.Private[str]

    @strawberry.field(description="How many people are registered in the village.")
    async def total_count(self, info: strawberry.Info[IdentityContext, Any]) -> int:
        async with info.context.sessions() as session:
            return await count_people(session, self.village_code)


@strawberry.type
class Query:
    @strawberry.field(description="One person by SPID; null when no one has it.")
    async def person(self, info: strawberry.Info[IdentityContext, Any], spid: str) -> Person | None:
        try:
            validate_spid(spid)
        except InvalidSpid as error:
            raise InvalidInput(str(error)) from None
        record = await info.context.people.load(spid)
        return Person.from_record(record) if record is not None else None

    @strawberry.field(
        description=(
            f"The people of one village, in SPID order; first is 1 to {MAX_PAGE_SIZE}, "
            "after is the endCursor of the previous page."
        )
    )
    async def people(
        self,
        info: strawberry.Info[IdentityContext, Any],
        village_code: str,
        first: int = 20,
        after: str | None = None,
    ) -> PersonConnection:
        async with info.context.sessions() as session:
            page = await people_in_village(session, village_code, first, after)
        edges = []
        for record in page.people:
            info.context.people.prime(record.spid, record)
            edges.append(
                PersonEdge(cursor=encode_cursor(record.spid), node=Person.from_record(record))
            )
        return PersonConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
            village_code=village_code,
        )


class IdentitySchema(strawberry.federation.Schema):
    """The federation schema, logging only faults of ours and never an error's message."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors, execution_context)


schema = IdentitySchema(query=Query, types=[Person], extensions=[RegistryErrors])
