"""The identity subgraph's schema: ``Person @key(fields: "spid")``, ``Household``, registration.

Queries read the registry (by SPID, Khmer ID, name and birth date, area, household);
mutations register people and decide review cases, merges and unmerges. Every list a
field resolves per person goes through a per-request DataLoader: one query per batch.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader
from strawberry.types import ExecutionContext

from identity_store import (
    MAX_PAGE_SIZE,
    MAX_RESULTS,
    InvalidInput,
    InvalidSpid,
    PersonRecord,
    ProgramLinkRecord,
    Registration,
    RegistrationResult,
    ReviewCaseRecord,
    address_of,
    count_people,
    encode_cursor,
    format_birth_date,
    history_of,
    households_by_ids,
    links_by_spids,
    members_of,
    merge_people,
    normalize_phone,
    parse_birth_date,
    people_by_spids,
    people_in_area,
    person_by_khmer_id,
    register_batch,
    resolve_review_case,
    review_cases,
    search_people,
    unmerge_person,
    validate_spid,
)
from identity_store import HouseholdRecord as HouseholdRow
from identity_store import Place as PlaceRecord
from identity_store.matching import FieldAgreement, MatchModel
from subgraphs.identity.errors import RegistryErrors, log_unexpected

MAX_REGISTRATIONS = 1000


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
    households: DataLoader[str, HouseholdRow | None]
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

    async def load_households(ids: list[str]) -> list[HouseholdRow | None]:
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


def _spid(value: str) -> str:
    try:
        return validate_spid(value)
    except InvalidSpid as error:
        raise InvalidInput(str(error)) from None


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


@strawberry.enum(description="How a registration was decided.")
class RegistrationDecision(enum.Enum):
    KHMER_ID = "khmer_id"
    MATCH = "match"
    REVIEW = "review"
    NEW = "new"


@strawberry.enum(description="Whether a review case is open or how it was decided.")
class ReviewStatus(enum.Enum):
    OPEN = "open"
    SAME_PERSON = "same_person"
    DIFFERENT_PEOPLE = "different_people"


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
            events = await history_of(session, self.spid)
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
    def from_record(cls, row: HouseholdRow) -> Household:
        return cls(
            household_id=row.household_id, village_code=row.village_code, head_spid=row.head_spid
        )

    @classmethod
    async def resolve_reference(cls, info: Info, householdId: str) -> Household | None:
        # strawberry hands the representation's keys over as they are spelled in it.
        row = await info.context.households.load(householdId)
        return cls.from_record(row) if row is not None else None

    @strawberry.field(description="Province, district, commune and village, in Khmer and English.")
    def address(self) -> Address:
        return Address.of(self.village_code)

    @strawberry.field(description="The members, head first.")
    async def members(self, info: Info) -> list[HouseholdMember]:
        members = await info.context.members.load(self.household_id)
        return [HouseholdMember(relationship=rel.upper(), spid=spid) for spid, rel in members]


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
    area: strawberry.Private[tuple[str, str]]

    @strawberry.field(description="How many people are registered in the area.")
    async def total_count(self, info: Info) -> int:
        async with info.context.sessions() as session:
            return await count_people(session, area=self.area)


@strawberry.type(description="A person found by a search, and how well they fit (0 to 1).")
class PersonMatch:
    person: Person
    score: float
    name_score: float
    birth_date_score: float | None


@strawberry.type(description="A registration the matcher could not decide alone.")
class ReviewCase:
    id: strawberry.ID
    spid: str = strawberry.field(description="The provisional SPID the registration got.")
    candidate_spid: str = strawberry.field(description="The registered person it may be.")
    probability: float
    weight: float
    reasons: list[MatchReason]
    status: ReviewStatus
    opened_at: dt.datetime
    resolved_by: str | None
    resolved_at: dt.datetime | None
    resolution_reason: str | None

    @classmethod
    def of(cls, case: ReviewCaseRecord) -> ReviewCase:
        return cls(
            id=strawberry.ID(str(case.id)),
            spid=case.spid,
            candidate_spid=case.candidate_spid,
            probability=case.probability,
            weight=case.weight,
            reasons=MatchReason.of(case.reasons),
            status=ReviewStatus(case.status),
            opened_at=case.opened_at,
            resolved_by=case.resolved_by,
            resolved_at=case.resolved_at,
            resolution_reason=case.resolution_reason,
        )

    @strawberry.field(description="The person of the provisional SPID (the survivor if merged).")
    async def person(self, info: Info) -> Person | None:
        record = await info.context.people.load(self.spid)
        return Person.from_record(record) if record is not None else None

    @strawberry.field(description="The registered person the registration may be.")
    async def candidate(self, info: Info) -> Person | None:
        record = await info.context.people.load(self.candidate_spid)
        return Person.from_record(record) if record is not None else None


@strawberry.type
class ReviewCaseConnection:
    nodes: list[ReviewCase]
    page_info: PageInfo


@strawberry.input(description="An operator registering a person it serves.")
class RegistrationInput:
    operator: str = strawberry.field(description="The registering operator, e.g. NSSF.")
    programme: str
    local_id: str = strawberry.field(description="The operator's own ID for the person.")
    family_name: str
    given_name: str
    birth_date: str = strawberry.field(
        description="YYYY-MM-DD, or YYYY-MM or YYYY when only the month or year is known."
    )
    sex: Sex
    village_code: str
    khmer_id: str | None = None
    family_name_km: str | None = None
    given_name_km: str | None = None
    phone: str | None = None
    since: dt.date | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Sending the same request with the same key registers once."
    )
    registered_by: str | None = strawberry.field(
        default=None, description="The operator's user who registered, for the history."
    )

    def to_registration(self) -> Registration:
        birth_date, precision = parse_birth_date(self.birth_date)
        return Registration(
            operator=self.operator,
            programme=self.programme,
            local_id=self.local_id,
            family_name=self.family_name,
            given_name=self.given_name,
            birth_date=birth_date,
            birth_precision=precision,
            sex=self.sex.value,
            village_code=self.village_code,
            khmer_id=self.khmer_id,
            family_name_km=self.family_name_km,
            given_name_km=self.given_name_km,
            phone=normalize_phone(self.phone) if self.phone else None,
            since=self.since,
            idempotency_key=self.idempotency_key,
            registered_by=self.registered_by,
        )


@strawberry.type(description="The SPID a registration got, the decision, and why.")
class RegistrationOutcome:
    spid: str
    decision: RegistrationDecision
    probability: float | None
    weight: float | None
    reasons: list[MatchReason]
    candidate_spid: str | None = strawberry.field(
        description="For REVIEW: the registered person the record may be."
    )
    review_case_id: strawberry.ID | None
    replayed: bool = strawberry.field(
        description="The same request was answered before; this is that answer, nothing new."
    )

    @classmethod
    def of(cls, result: RegistrationResult) -> RegistrationOutcome:
        return cls(
            spid=result.spid,
            decision=RegistrationDecision(result.decision),
            probability=result.probability,
            weight=result.weight,
            reasons=MatchReason.of(result.reasons),
            candidate_spid=result.candidate_spid,
            review_case_id=(
                strawberry.ID(str(result.review_case_id)) if result.review_case_id else None
            ),
            replayed=result.replayed,
        )

    @strawberry.field
    async def person(self, info: Info) -> Person | None:
        record = await info.context.people.load(self.spid)
        return Person.from_record(record) if record is not None else None


def _area(
    village_code: str | None,
    commune_code: str | None,
    district_code: str | None,
    province_code: str | None,
) -> tuple[str, str]:
    given = [
        (level, code)
        for level, code in (
            ("village", village_code),
            ("commune", commune_code),
            ("district", district_code),
            ("province", province_code),
        )
        if code is not None
    ]
    if len(given) != 1:
        raise InvalidInput(
            "give exactly one of villageCode, communeCode, districtCode or provinceCode."
        )
    return given[0]


@strawberry.type
class Query:
    @strawberry.field(
        description="One person by SPID (a merged SPID answers its survivor); null if none has it."
    )
    async def person(self, info: Info, spid: str) -> Person | None:
        record = await info.context.people.load(_spid(spid))
        return Person.from_record(record) if record is not None else None

    @strawberry.field(description="One person by Khmer ID; null when no one has it.")
    async def person_by_khmer_id(self, info: Info, khmer_id: str) -> Person | None:
        async with info.context.sessions() as session:
            record = await person_by_khmer_id(session, khmer_id)
        return Person.from_record(record) if record is not None else None

    @strawberry.field(
        description=(
            "People by name (either order, romanization-tolerant; in Latin or Khmer script, "
            "Khmer needing at least a birth year) and optionally birth date (YYYY-MM-DD, "
            f"YYYY-MM or YYYY), best first; first is 1 to {MAX_RESULTS}."
        )
    )
    async def search_people(
        self,
        info: Info,
        family_name: str,
        given_name: str,
        birth_date: str | None = None,
        first: int = 10,
    ) -> list[PersonMatch]:
        date, precision = parse_birth_date(birth_date) if birth_date else (None, "day")
        async with info.context.sessions() as session:
            hits = await search_people(session, family_name, given_name, date, precision, first)
        return [
            PersonMatch(
                person=Person.from_record(hit.person),
                score=hit.score,
                name_score=hit.name_score,
                birth_date_score=hit.birth_date_score,
            )
            for hit in hits
        ]

    @strawberry.field(
        description=(
            "The people of one village, commune, district or province (give exactly one "
            f"code), in SPID order; first is 1 to {MAX_PAGE_SIZE}, after is the endCursor "
            "of the previous page."
        )
    )
    async def people(
        self,
        info: Info,
        village_code: str | None = None,
        first: int = 20,
        after: str | None = None,
        commune_code: str | None = None,
        district_code: str | None = None,
        province_code: str | None = None,
    ) -> PersonConnection:
        area = _area(village_code, commune_code, district_code, province_code)
        async with info.context.sessions() as session:
            page = await people_in_area(session, area[0], area[1], first, after)
        edges = []
        for record in page.people:
            info.context.people.prime(record.spid, record)
            edges.append(
                PersonEdge(cursor=encode_cursor(record.spid), node=Person.from_record(record))
            )
        return PersonConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
            area=area,
        )

    @strawberry.field(description="One household by ID; null when none has it.")
    async def household(self, info: Info, household_id: str) -> Household | None:
        row = await info.context.households.load(household_id)
        return Household.from_record(row) if row is not None else None

    @strawberry.field(description="Review cases with a status (OPEN by default), oldest first.")
    async def review_cases(
        self,
        info: Info,
        status: ReviewStatus = ReviewStatus.OPEN,
        first: int = 20,
        after: str | None = None,
    ) -> ReviewCaseConnection:
        async with info.context.sessions() as session:
            page = await review_cases(session, status.value, first, after)
        return ReviewCaseConnection(
            nodes=[ReviewCase.of(case) for case in page.cases],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )


def _case_id(value: strawberry.ID) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"a review case ID is a number; got {value!r}.") from None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=(
            "Register a person: the same Khmer ID or a confident match links the existing "
            "SPID, an uncertain one opens a review case with a provisional SPID, otherwise "
            "a new SPID. Sending the same request again answers the same."
        )
    )
    async def register_person(self, info: Info, input: RegistrationInput) -> RegistrationOutcome:
        registration = input.to_registration()
        (result,) = await register_batch(
            info.context.sessions, [registration], info.context.match_model
        )
        return RegistrationOutcome.of(result)

    @strawberry.mutation(
        description=(
            f"Register up to {MAX_REGISTRATIONS} people in one transaction, each matched "
            "against the registry and the earlier ones of the list; a bad record refuses "
            "the whole list, naming it, and stores nothing."
        )
    )
    async def register_people(
        self, info: Info, inputs: list[RegistrationInput]
    ) -> list[RegistrationOutcome]:
        if not 1 <= len(inputs) <= MAX_REGISTRATIONS:
            raise InvalidInput(
                f"send 1 to {MAX_REGISTRATIONS} registrations at once; got {len(inputs)}. "
                "Split a larger backlog into several calls."
            )
        registrations = []
        for index, item in enumerate(inputs):
            try:
                registrations.append(item.to_registration())
            except InvalidInput as error:
                raise InvalidInput(f"registration {index + 1}: {error}") from None
        results = await register_batch(
            info.context.sessions, registrations, info.context.match_model
        )
        return [RegistrationOutcome.of(result) for result in results]

    @strawberry.mutation(
        description="Decide a review case: the same person (merged) or different people."
    )
    async def resolve_review_case(
        self,
        info: Info,
        case_id: strawberry.ID,
        same_person: bool,
        decided_by: str,
        reason: str,
    ) -> ReviewCase:
        case = await resolve_review_case(
            info.context.sessions, _case_id(case_id), same_person, decided_by, reason
        )
        return ReviewCase.of(case)

    @strawberry.mutation(
        description="Merge two SPIDs of one person; the merged one resolves to the survivor."
    )
    async def merge_people(
        self, info: Info, survivor_spid: str, merged_spid: str, decided_by: str, reason: str
    ) -> Person:
        record = await merge_people(
            info.context.sessions, survivor_spid, merged_spid, decided_by, reason
        )
        return Person.from_record(record)

    @strawberry.mutation(description="Undo a merge: the SPID stands for itself again.")
    async def unmerge_person(self, info: Info, spid: str, decided_by: str, reason: str) -> Person:
        record = await unmerge_person(info.context.sessions, spid, decided_by, reason)
        return Person.from_record(record)


class IdentitySchema(strawberry.federation.Schema):
    """The federation schema, logging only faults of ours and never an error's message."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors, execution_context)


schema = IdentitySchema(
    query=Query, mutation=Mutation, types=[Person, Household], extensions=[RegistryErrors]
)
