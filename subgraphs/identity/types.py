"""The identity subgraph's types: ``Person @key(fields: "spid")``, ``Household``, places, pages.

Every list a field resolves per person goes through a per-request DataLoader of the
context: one query per batch of people.
"""

from __future__ import annotations

import datetime as dt
import enum

import strawberry

from identity_store import (
    HouseholdRecord,
    InvalidInput,
    PersonRecord,
    address_of,
    check_text,
    count_households,
    count_people,
    encode_cursor,
    encode_household_cursor,
    format_birth_date,
    history_of,
)
from identity_store import Place as PlaceRecord
from identity_store.matching import FieldAgreement
from subgraphs.identity.context import Info, checked_spid


@strawberry.enum(description="Sex as registered.")
class Sex(enum.Enum):
    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


@strawberry.enum(description="How precisely a birth date is known.")
class DatePrecision(enum.Enum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


@strawberry.enum(description="ACTIVE; PROVISIONAL while a review case is open; MERGED.")
class PersonStatus(enum.Enum):
    ACTIVE = "active"
    PROVISIONAL = "provisional"
    MERGED = "merged"


@strawberry.type(description="A unit of the gazetteer, named in Khmer and English.")
class Place:
    code: str
    name_km: str
    name_en: str

    @classmethod
    def of(cls, place: PlaceRecord) -> Place:
        return cls(code=place.code, name_km=place.name_km, name_en=place.name_en)


@strawberry.type(description="Where a person lives, from the official gazetteer.")
class Address:
    village: Place
    commune: Place
    district: Place
    province: Place

    @classmethod
    def of(cls, village_code: str) -> Address:
        found = address_of(village_code)
        return cls(
            village=Place.of(found.village),
            commune=Place.of(found.commune),
            district=Place.of(found.district),
            province=Place.of(found.province),
        )


@strawberry.type(description="An operator knows this person under localId. Identifiers only.")
class ProgramLink:
    operator: str
    programme: str
    local_id: str
    status: str
    since: dt.date | None
    registered_spid: str = strawberry.field(
        description="The SPID the operator registered; another one after a merge."
    )


@strawberry.type(description="One entry of a person's registration history.")
class RegistrationEvent:
    kind: str
    at: dt.datetime
    operator: str | None
    actor: str | None
    other_spid: str | None
    decision: str | None
    reason: str | None


@strawberry.type(description="How one field compared, and the weight it added (log2 m/u).")
class MatchReason:
    comparison: str
    level: str
    weight: float

    @classmethod
    def of(cls, reasons: tuple[FieldAgreement, ...]) -> list[MatchReason]:
        return [cls(comparison=r.comparison, level=r.level, weight=r.weight) for r in reasons]


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
    family_name_km: str | None = strawberry.field(description="Family name in Khmer script.")
    given_name_km: str | None = strawberry.field(description="Given name in Khmer script.")
    birth_date: dt.date = strawberry.field(
        description="Birth date; the first day of the month or year when known less precisely."
    )
    birth_date_precision: DatePrecision
    sex: Sex
    village_code: str = strawberry.field(description="Gazetteer village code, 8 digits.")
    phone: str | None
    status: PersonStatus
    household_id: strawberry.Private[str | None]
    relationship: strawberry.Private[str | None]

    @classmethod
    def from_record(cls, record: PersonRecord) -> Person:
        return cls(
            spid=record.spid,
            khmer_id=record.khmer_id,
            family_name=record.family_name,
            given_name=record.given_name,
            family_name_km=record.family_name_km,
            given_name_km=record.given_name_km,
            birth_date=record.birth_date,
            birth_date_precision=DatePrecision(record.birth_precision),
            sex=Sex(record.sex),
            village_code=record.village_code,
            phone=record.phone,
            status=PersonStatus(record.status),
            household_id=record.household_id,
            relationship=record.relationship,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, spid: str) -> Person | None:
        if not isinstance(spid, str):  # a malformed string is someone no one is: null
            checked_spid(spid)
        record = await info.context.people.load(spid)
        return cls.from_record(record) if record is not None else None

    @strawberry.field(
        description="The birth date as precisely as known: 1990-05-17, 1990-05, 1990."
    )
    def birth_date_as_known(self) -> str:
        return format_birth_date(self.birth_date, self.birth_date_precision.value)

    @strawberry.field(description="Province, district, commune and village, in Khmer and English.")
    def address(self) -> Address:
        return Address.of(self.village_code)

    @strawberry.field(description="The household the person belongs to, if any.")
    async def household(self, info: Info) -> Household | None:
        if self.household_id is None:
            return None
        row = await info.context.households.load(self.household_id)
        return Household.from_record(row) if row is not None else None

    @strawberry.field(description="Relationship to the head of the household: HEAD, SPOUSE, ...")
    def relationship_to_head(self) -> str | None:
        return self.relationship.upper() if self.relationship else None

    @strawberry.field(description="Which operators know the person, under which local IDs.")
    async def program_links(self, info: Info) -> list[ProgramLink]:
        links = await info.context.links.load(self.spid)
        return [
            ProgramLink(
                operator=link.operator,
                programme=link.programme,
                local_id=link.local_id,
                status=link.status,
                since=link.since,
                registered_spid=link.registered_spid,
            )
            for link in links
        ]

    @strawberry.field(description="Registrations, links, merges and decisions, oldest first.")
    async def history(self, info: Info) -> list[RegistrationEvent]:
        async with info.context.sessions() as session:
            events = await history_of(session, self.spid, scope=info.context.scope)
        return [
            RegistrationEvent(
                kind=event.kind,
                at=event.at,
                operator=event.operator,
                actor=event.actor,
                other_spid=event.other_spid,
                decision=event.detail.get("decision"),
                reason=event.detail.get("reason"),
            )
            for event in events
        ]


@strawberry.type(description="A member of a household and their relationship to its head.")
class HouseholdMember:
    relationship: str
    spid: strawberry.Private[str]

    @strawberry.field
    async def person(self, info: Info) -> Person | None:
        record = await info.context.people.load(self.spid)
        return Person.from_record(record) if record is not None else None


@strawberry.federation.type(keys=["householdId"], description="People living together.")
class Household:
    household_id: str
    village_code: str
    head_spid: str | None

    @classmethod
    def from_record(cls, row: HouseholdRecord) -> Household:
        return cls(
            household_id=row.household_id, village_code=row.village_code, head_spid=row.head_spid
        )

    @classmethod
    async def resolve_reference(cls, info: Info, householdId: str) -> Household | None:
        # strawberry hands the representation's keys over as they are spelled in it.
        if not isinstance(householdId, str):
            raise InvalidInput("a householdId is a string, as the registry issued it.")
        row = await info.context.households.load(check_text(householdId, "householdId"))
        return cls.from_record(row) if row is not None else None

    @strawberry.field(description="Province, district, commune and village, in Khmer and English.")
    def address(self) -> Address:
        return Address.of(self.village_code)

    @strawberry.field(description="The members, head first.")
    async def members(self, info: Info) -> list[HouseholdMember]:
        members = await info.context.members.load(self.household_id)
        return [HouseholdMember(relationship=rel.upper(), spid=spid) for spid, rel in members]


def _edge_cursor(self: PersonEdge) -> str:
    # Encoded only when asked for: a page of 10,000 people rarely wants each cursor.
    return encode_cursor(self.node.spid)


@strawberry.type
class PersonEdge:
    cursor: str = strawberry.field(resolver=_edge_cursor)
    node: Person


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class PersonConnection:
    edges: list[PersonEdge]
    page_info: PageInfo
    area: strawberry.Private[tuple[str, str]]

    @strawberry.field(description="How many people are registered in the area.")
    async def total_count(self, info: Info) -> int:
        async with info.context.sessions() as session:
            return await count_people(session, area=self.area, scope=info.context.scope)


def _household_cursor(self: HouseholdEdge) -> str:
    return encode_household_cursor(self.node.household_id)


@strawberry.type
class HouseholdEdge:
    cursor: str = strawberry.field(resolver=_household_cursor)
    node: Household


@strawberry.type
class HouseholdConnection:
    edges: list[HouseholdEdge]
    page_info: PageInfo
    area: strawberry.Private[tuple[str, str]]

    @strawberry.field(description="How many households the area holds.")
    async def total_count(self, info: Info) -> int:
        async with info.context.sessions() as session:
            return await count_households(session, self.area, scope=info.context.scope)


@strawberry.type(description="A person found by a search, and how well they fit (0 to 1).")
class PersonMatch:
    person: Person
    score: float
    name_score: float
    birth_date_score: float | None
