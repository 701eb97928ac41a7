"""Row scope: the pure rule, and the SQL of lookups, pages, counts and searches that applies it."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store import (
    EVERYONE,
    InvalidInput,
    NewHousehold,
    NotMergeable,
    Scope,
    UnknownPerson,
    add_households,
    add_people,
    admits,
    count_people,
    history_of,
    households_by_ids,
    members_of,
    merge_people,
    new_spid,
    people_by_spids,
    people_in_area,
    person_by_khmer_id,
    resolve_review_case,
    review_case,
    review_cases,
    search_people,
    unmerge_person,
)
from identity_store.models import Person, ProgramLink, ReviewCase
from tests.identity_store.conftest import row_counts
from tests.identity_store.people import person

Sessions = async_sessionmaker[AsyncSession]

# One village per level of difference from 01020101, and two of the villages whose code
# starts with another commune's code (02140408 lies in commune 021405, not 021404).
VILLAGES = (
    "01020101",
    "01020102",  # same commune
    "01020201",  # same district
    "01030101",  # same province
    "12010101",  # another province
    "02140401",  # commune 021404
    "02140408",  # commune 021405 by the gazetteer, though its code starts with 021404
)
OPERATORS = ("nssf", "pca", "moi")


def test_areas_of_every_level_follow_the_gazetteer() -> None:
    for area in ("01", "0102", "010201", "01020101"):
        assert admits(Scope(areas=(area,)), "01020101", ())
    assert not admits(Scope(areas=("12", "0103", "010202")), "01020101", ())
    assert admits(Scope(areas=("021405",)), "02140408", ())
    assert not admits(Scope(areas=("021404",)), "02140408", ())
    # A code of no level of the gazetteer is a prefix of the village code.
    assert admits(Scope(areas=("0214040",)), "02140408", ())
    assert not admits(Scope(areas=()), "01020101", ())


def test_operator_and_areas_must_both_hold() -> None:
    both = Scope(areas=("01",), operator="nssf")
    assert admits(both, "01020101", {"nssf", "pca"})
    assert not admits(both, "01020101", {"pca"})
    assert not admits(both, "12010101", {"nssf"})
    assert admits(Scope(operator="nssf"), "12010101", {"nssf"})
    # "Own registrations" of a partner that is no operator: the gateway sends operator "".
    assert not admits(Scope(operator=""), "12010101", {"nssf"})
    assert admits(EVERYONE, "12010101", ())
    assert EVERYONE.unrestricted and not Scope(areas=()).unrestricted


def test_areas_are_digits_only() -> None:
    with pytest.raises(ValueError, match="gazetteer codes"):
        Scope(areas=("01%",))


@dataclass
class Population:
    """People in :data:`VILLAGES` with links of :data:`OPERATORS`; some of them merged."""

    sessions: Sessions
    villages: dict[str, str]  # spid -> village
    operators: dict[str, set[str]]  # spid -> operators holding a link (after merges)
    merged: dict[str, str]  # merged spid -> survivor

    def admitted(self, scope: Scope) -> set[str]:
        return {
            spid
            for spid, village in self.villages.items()
            if spid not in self.merged and admits(scope, village, self.operators[spid])
        }


@pytest.fixture
async def population(sessions: Sessions) -> AsyncIterator[Population]:
    rng = random.Random(41)
    # One name for everyone, so that one search finds them all.
    people = [
        person(
            rng,
            family_name="Seng",
            given_name="Dara",
            birth_date=dt.date(1985, 1 + i % 12, 1 + i % 28),
            village_code=VILLAGES[i % len(VILLAGES)],
        )
        for i in range(42)
    ]
    await add_people(sessions, people)
    links = [
        {
            "spid": p.spid,
            "origin_spid": p.spid,
            "operator": op,
            "programme": "p",
            "local_id": p.spid,
        }
        for p in people
        for op in rng.sample(OPERATORS, rng.randint(0, 2))
    ]
    async with sessions.begin() as session:
        await session.execute(insert(ProgramLink), links)
    # Merged records stay search candidates; their links move to the survivor.
    merged = {people[i].spid: people[i + 1].spid for i in (0, 9, 20)}
    for gone, survivor in merged.items():
        await merge_people(sessions, survivor, gone, "registry", "duplicate")
    operators: dict[str, set[str]] = defaultdict(set)
    async with sessions() as session:
        for spid, operator in await session.execute(select(ProgramLink.spid, ProgramLink.operator)):
            operators[spid].add(operator)
    yield Population(sessions, {p.spid: p.village_code for p in people}, operators, merged)


AREA_CODES = ("01", "02", "12", "0102", "0103", "0214", "010201", "021404", "021405")
scopes = st.builds(
    Scope,
    areas=st.none()
    | st.lists(st.sampled_from((*AREA_CODES, *VILLAGES, "0", "0214040")), max_size=3).map(tuple),
    operator=st.none() | st.sampled_from((*OPERATORS, "idpoor")),
)
AREAS = (
    ("province", "01"),
    ("district", "0102"),
    ("commune", "010201"),
    ("commune", "021404"),
    ("commune", "021405"),
    ("village", "01020101"),
    ("province", "12"),
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scope=scopes, area=st.sampled_from(AREAS), first=st.integers(1, 7))
async def test_area_pages_and_counts_hold_exactly_the_people_in_scope(
    population: Population, scope: Scope, area: tuple[str, str], first: int
) -> None:
    level, code = area
    in_area = population.admitted(Scope(areas=(code,)))
    expected = sorted(population.admitted(scope) & in_area)
    listed: list[str] = []
    after = None
    async with population.sessions() as session:
        while True:
            page = await people_in_area(session, level, code, first, after, scope=scope)
            listed += [p.spid for p in page.people]
            if not page.has_next_page:
                break
            assert len(page.people) == first  # a page followed by another is full
            after = page.end_cursor
        count = await count_people(session, area=area, scope=scope)
    assert listed == expected
    assert count == len(expected)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scope=scopes)
async def test_a_search_finds_exactly_the_people_in_scope(
    population: Population, scope: Scope
) -> None:
    async with population.sessions() as session:
        hits = await search_people(
            session, "Seng", "Dara", dt.date(1985, 1, 1), "year", 100, scope=scope
        )
    assert {hit.person.spid for hit in hits} == population.admitted(scope)


async def test_a_lookup_out_of_scope_is_an_unknown_spid(population: Population) -> None:
    standing = [s for s in population.villages if s not in population.merged]
    inside = next(s for s in standing if population.villages[s] == "01020101")
    outside = next(s for s in standing if population.villages[s] == "12010101")
    scope = Scope(areas=("01020101",))
    unknown = new_spid(random.Random(5))
    async with population.sessions() as session:
        found = await people_by_spids(session, [inside, outside, unknown], scope=scope)
    assert set(found) == {inside}


async def test_a_merged_spid_answers_its_survivor_only_in_scope(sessions: Sessions) -> None:
    rng = random.Random(42)
    gone = person(rng, village_code="01020101", khmer_id="123456789")
    survivor = person(rng, village_code="12010101")
    await add_people(sessions, [gone, survivor])
    await merge_people(sessions, survivor.spid, gone.spid, "registry", "duplicate")
    # The merged record lies in the scope's village; its survivor does not.
    here, there = Scope(areas=("01020101",)), Scope(areas=("12",))
    async with sessions() as session:
        assert await people_by_spids(session, [gone.spid], scope=here) == {}
        assert await person_by_khmer_id(session, "123456789", scope=here) is None
        found = await people_by_spids(session, [gone.spid], scope=there)
        assert found[gone.spid].spid == survivor.spid
        holder = await person_by_khmer_id(session, "123456789", scope=there)
        assert holder is not None and holder.spid == survivor.spid


async def test_a_household_in_scope_shows_only_its_members_in_scope(sessions: Sessions) -> None:
    rng = random.Random(43)
    head = person(rng, village_code="12010101")
    child = person(rng, village_code="01020101", given_name="Thida", sex="female")
    alone = person(rng, village_code="12010101", given_name="Vannak")
    await add_people(sessions, [head, child, alone])
    await add_households(
        sessions,
        [
            NewHousehold("HH-1", "12010101", [(head.spid, "head"), (child.spid, "child")]),
            NewHousehold("HH-2", "12010101", [(alone.spid, "head")]),
        ],
    )
    scope = Scope(areas=("01",))
    async with sessions() as session:
        households = await households_by_ids(session, ["HH-1", "HH-2"], scope=scope)
        members = await members_of(session, ["HH-1", "HH-2"], scope=scope)
        everyone = await households_by_ids(session, ["HH-1", "HH-2"])
    assert set(households) == {"HH-1"}
    assert households["HH-1"].head_spid is None
    assert dict(members) == {"HH-1": [(child.spid, "child")]}
    assert everyone["HH-1"].head_spid == head.spid


async def test_history_names_no_one_out_of_scope(sessions: Sessions) -> None:
    rng = random.Random(44)
    a, b = person(rng, village_code="01020101"), person(rng, village_code="12010101")
    await add_people(sessions, [a, b])
    await merge_people(sessions, a.spid, b.spid, "registry", "duplicate")
    await unmerge_person(sessions, b.spid, "registry", "two people")
    async with sessions() as session:
        scoped = await history_of(session, a.spid, scope=Scope(areas=("01",)))
        unscoped = await history_of(session, a.spid)
    assert [(e.kind, e.other_spid) for e in unscoped] == [("absorbed", b.spid), ("split", b.spid)]
    assert [(e.kind, e.other_spid) for e in scoped] == [("absorbed", None), ("split", None)]


async def test_decisions_on_people_out_of_scope_fail_as_for_unknown_ones(
    sessions: Sessions,
) -> None:
    rng = random.Random(45)
    a, b, c = (person(rng, village_code=v) for v in ("01020101", "01020102", "12010101"))
    await add_people(sessions, [a, b, c])
    scope = Scope(areas=("01",))
    unknown = new_spid(rng)
    before = await row_counts(sessions)
    for survivor, merged in ((a.spid, c.spid), (c.spid, a.spid), (a.spid, unknown)):
        with pytest.raises(UnknownPerson) as refused:
            await merge_people(sessions, survivor, merged, "officer", "same", scope=scope)
        missing = merged if survivor == a.spid else survivor
        assert str(refused.value) == f"no one in the registry has SPID {missing}; check the SPID."
    assert await row_counts(sessions) == before
    # Merged out of scope, a SPID cannot be unmerged through its survivor's scope either.
    await merge_people(sessions, a.spid, c.spid, "registry", "duplicate")
    with pytest.raises(NotMergeable, match="outside what you may see"):
        await unmerge_person(sessions, c.spid, "officer", "two people", scope=scope)
    async with sessions() as session:
        assert (await session.get(Person, c.spid)).status == "merged"  # type: ignore[union-attr]
    await merge_people(sessions, a.spid, b.spid, "officer", "same", scope=scope)
    unmerged = await unmerge_person(sessions, b.spid, "officer", "two", scope=scope)
    assert unmerged.spid == b.spid


async def test_review_cases_need_both_people_in_scope_and_pages_stay_full(
    sessions: Sessions,
) -> None:
    rng = random.Random(46)
    here = [person(rng, village_code="01020101", given_name=f"Here{i}") for i in range(6)]
    there = [person(rng, village_code="12010101", given_name=f"There{i}") for i in range(6)]
    await add_people(sessions, [*here, *there])
    pairs = [
        (here[0], there[0]),
        (here[1], here[2]),
        (there[1], here[3]),
        (here[4], here[5]),
        (there[2], there[3]),
        (here[2], there[4]),
        (here[3], here[0]),
    ]
    async with sessions.begin() as session:
        rows = [
            ReviewCase(spid=a.spid, candidate_spid=b.spid, probability=0.5, weight=0.0, reasons={})
            for a, b in pairs
        ]
        session.add_all(rows)
    ids = [row.id for row in rows]
    scope = Scope(areas=("01",))
    visible = [ids[1], ids[3], ids[6]]
    listed: list[int] = []
    after = None
    async with sessions() as session:
        while True:
            page = await review_cases(session, "open", 2, after, scope=scope)
            listed += [case.id for case in page.cases]
            if not page.has_next_page:
                break
            assert len(page.cases) == 2
            after = page.end_cursor
        assert await review_case(session, ids[0], scope=scope) is None
    assert listed == visible
    with pytest.raises(InvalidInput) as hidden:
        await resolve_review_case(sessions, ids[0], False, "officer", "no", scope=scope)
    with pytest.raises(InvalidInput) as unknown:
        await resolve_review_case(sessions, 999_999, False, "officer", "no", scope=scope)
    assert str(hidden.value) == str(unknown.value).replace("999999", str(ids[0]))
    decided = await resolve_review_case(sessions, ids[1], True, "officer", "same", scope=scope)
    assert decided.status == "same_person"
