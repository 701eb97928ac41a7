"""The identity subgraph's ``Query`` root: people by SPID, Khmer ID, name, area; households."""

from __future__ import annotations

import datetime as dt

import strawberry

from identity_store import (
    MAX_PAGE_SIZE,
    MAX_RESULTS,
    InvalidInput,
    households_in_area,
    parse_birth_date,
    people_in_area,
    person_by_khmer_id,
    review_cases,
    search_people,
)
from subgraphs.identity.accesses import PersonAccesses, accesses_to
from subgraphs.identity.context import Info, checked_spid
from subgraphs.identity.registration import ReviewCase, ReviewCaseConnection, ReviewStatus
from subgraphs.identity.types import (
    Household,
    HouseholdConnection,
    HouseholdEdge,
    PageInfo,
    Person,
    PersonConnection,
    PersonEdge,
    PersonMatch,
)


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
        record = await info.context.people.load(checked_spid(spid))
        return Person.from_record(record) if record is not None else None

    @strawberry.field(description="One person by Khmer ID; null when no one has it.")
    async def person_by_khmer_id(self, info: Info, khmer_id: str) -> Person | None:
        async with info.context.sessions() as session:
            record = await person_by_khmer_id(session, khmer_id, scope=info.context.scope)
        return Person.from_record(record) if record is not None else None

    @strawberry.field(
        description=(
            "People by name (either order, romanization-tolerant; in Latin or Khmer script) "
            "and optionally birth date (YYYY-MM-DD, "
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
            hits = await search_people(
                session,
                family_name,
                given_name,
                date,
                precision,
                first,
                scope=info.context.scope,
            )
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
            page = await people_in_area(
                session, area[0], area[1], first, after, scope=info.context.scope
            )
        info.context.people.prime_many({record.spid: record for record in page.people})
        edges = [PersonEdge(node=Person.from_record(record)) for record in page.people]
        return PersonConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
            area=area,
        )

    @strawberry.field(
        description=(
            "The households of one village, commune, district or province (give exactly one "
            f"code), in household ID order; first is 1 to {MAX_PAGE_SIZE}, after is the "
            "endCursor of the previous page."
        )
    )
    async def households(
        self,
        info: Info,
        village_code: str | None = None,
        first: int = 20,
        after: str | None = None,
        commune_code: str | None = None,
        district_code: str | None = None,
        province_code: str | None = None,
    ) -> HouseholdConnection:
        area = _area(village_code, commune_code, district_code, province_code)
        async with info.context.sessions() as session:
            page = await households_in_area(
                session, area[0], area[1], first, after, scope=info.context.scope
            )
        info.context.households.prime_many({h.household_id: h for h in page.households})
        return HouseholdConnection(
            edges=[HouseholdEdge(node=Household.from_record(h)) for h in page.households],
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
            page = await review_cases(session, status.value, first, after, scope=info.context.scope)
        return ReviewCaseConnection(
            nodes=[ReviewCase.of(case) for case in page.cases],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )

    @strawberry.field(
        description="Who saw one person's data: every request that returned it, from the "
        "access log, newest first; null for a SPID no one (in your scope) has."
    )
    async def accesses_to(
        self,
        info: Info,
        spid: str,
        since: dt.datetime | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> PersonAccesses | None:
        return await accesses_to(info, spid, since, first, after)
