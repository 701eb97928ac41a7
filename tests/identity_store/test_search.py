"""Search by name and birth date, pages by area, households and addresses."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store import (
    InvalidInput,
    NewHousehold,
    UnknownPerson,
    add_households,
    add_people,
    address_of,
    count_people,
    households_by_ids,
    members_of,
    new_spid,
    people_by_spids,
    people_in_area,
    search_people,
)
from tests.identity_store.conftest import row_counts
from tests.identity_store.people import OTHER_VILLAGE, VILLAGE, person

Sessions = async_sessionmaker[AsyncSession]


async def test_a_name_search_finds_swapped_and_romanized_names_best_first(
    sessions: Sessions,
) -> None:
    rng = random.Random(21)
    target = person(rng, family_name="Chhun", given_name="Sophal", birth_date=dt.date(1984, 3, 9))
    older = person(rng, family_name="Chhun", given_name="Sophal", birth_date=dt.date(1983, 3, 9))
    other = person(rng, family_name="Keo", given_name="Bopha", birth_date=dt.date(1984, 3, 9))
    await add_people(sessions, [target, older, other])
    async with sessions() as session:
        hits = await search_people(session, "Sophal", "Chun", dt.date(1984, 3, 9))
        no_date = await search_people(session, "Chun", "Sophall")
    assert [hit.person.spid for hit in hits] == [target.spid, older.spid]
    assert hits[0].score > hits[1].score
    assert hits[0].birth_date_score == 1.0
    assert {hit.person.spid for hit in no_date} == {target.spid, older.spid}
    assert all(0 < hit.score <= 1 for hit in no_date)


async def test_a_name_search_needs_both_names(sessions: Sessions) -> None:
    async with sessions() as session:
        with pytest.raises(InvalidInput, match="family name and a given name"):
            await search_people(session, "Sok", " ")


@pytest.mark.parametrize("level", ["commune", "district", "province"])
async def test_an_area_is_walked_page_by_page_exactly_once(sessions: Sessions, level: str) -> None:
    rng = random.Random(22)
    here = [person(rng, village_code=VILLAGE) for _ in range(7)]
    neighbours = [person(rng, village_code=OTHER_VILLAGE) for _ in range(4)]
    far = [person(rng, village_code="02030405") for _ in range(3)]
    await add_people(sessions, here + neighbours + far)
    code = {"commune": VILLAGE[:6], "district": VILLAGE[:4], "province": VILLAGE[:2]}[level]
    seen: list[str] = []
    after = None
    async with sessions() as session:
        while True:
            page = await people_in_area(session, level, code, 3, after)
            seen.extend(p.spid for p in page.people)
            if not page.has_next_page:
                break
            after = page.end_cursor
        assert await count_people(session, area=(level, code)) == 11
    assert seen == sorted(p.spid for p in here + neighbours)


@pytest.mark.parametrize(
    ("level", "code", "message"),
    [
        ("commune", "0102", "6 digits"),
        ("district", "9999", "not in the gazetteer"),
        ("hamlet", "01", "area level"),
    ],
)
async def test_a_bad_area_code_is_bad_input(
    sessions: Sessions, level: str, code: str, message: str
) -> None:
    async with sessions() as session:
        with pytest.raises(InvalidInput, match=message):
            await people_in_area(session, level, code, 10)


def test_an_address_names_every_level_in_khmer_and_english() -> None:
    address = address_of("01020101")
    assert (address.province.code, address.province.name_en) == ("01", "Banteay Meanchey")
    assert address.village.name_km == "អូរធំ"
    # The gazetteer files this village under a commune its code does not start with.
    assert address_of("02140408").commune.code == "021405"


async def test_a_household_groups_its_members_head_first(sessions: Sessions) -> None:
    rng = random.Random(23)
    head, spouse, child = (person(rng) for _ in range(3))
    await add_people(sessions, [head, spouse, child])
    household = NewHousehold(
        "HH0102010100001",
        VILLAGE,
        [(child.spid, "child"), (head.spid, "head"), (spouse.spid, "spouse")],
    )
    assert await add_households(sessions, [household]) == 1
    async with sessions() as session:
        found = await households_by_ids(session, ["HH0102010100001", "HH-unknown"])
        members = await members_of(session, ["HH0102010100001"])
        people = await people_by_spids(session, [child.spid])
    assert found["HH0102010100001"].head_spid == head.spid
    assert members["HH0102010100001"][0] == (head.spid, "head")
    assert sorted(members["HH0102010100001"][1:]) == sorted(
        [(child.spid, "child"), (spouse.spid, "spouse")]
    )
    assert (people[child.spid].household_id, people[child.spid].relationship) == (
        "HH0102010100001",
        "child",
    )


async def test_bad_households_store_nothing(sessions: Sessions) -> None:
    rng = random.Random(24)
    someone = person(rng)
    await add_people(sessions, [someone])
    before = await row_counts(sessions)
    with pytest.raises(InvalidInput, match="exactly one member whose relationship is head"):
        await add_households(sessions, [NewHousehold("H1", VILLAGE, [(someone.spid, "child")])])
    with pytest.raises(UnknownPerson, match="not registered"):
        await add_households(
            sessions,
            [NewHousehold("H1", VILLAGE, [(someone.spid, "head"), (new_spid(rng), "child")])],
        )
    assert await row_counts(sessions) == before


async def test_a_khmer_script_search_finds_either_order_and_either_keyboard_order(
    sessions: Sessions,
) -> None:
    rng = random.Random(22)
    # ស្រី + មុំ; the second is typed with the vowel before the subscript, as some
    # keyboards let people do, and must still be found.
    target = person(
        rng, family_name="Sok", given_name="Srey Mom", family_name_km="សុខ",
        given_name_km="ស្រីមុំ", birth_date=dt.date(1984, 3, 9),
    )  # fmt: skip
    neighbour = person(
        rng, family_name="Sok", given_name="Dara", family_name_km="សុខ",
        given_name_km="ដារ៉ា", birth_date=dt.date(1984, 3, 9),
    )  # fmt: skip
    latin_only = person(
        rng, family_name="Sok", given_name="Srey Mom", birth_date=dt.date(1984, 1, 2)
    )
    await add_people(sessions, [target, neighbour, latin_only])
    async with sessions() as session:
        swapped = await search_people(session, "ស្រីមុំ", "សុខ", dt.date(1985, 1, 1), "year")
        retyped = await search_people(session, "សុខ", "ស\u17b8\u17d2\u179aមុំ", dt.date(1984, 3, 9))
    assert [hit.person.spid for hit in swapped] == [target.spid]
    assert swapped[0].name_score == 1.0
    assert [hit.person.spid for hit in retyped] == [target.spid]


async def test_a_khmer_script_search_without_a_birth_year_finds_every_year(
    sessions: Sessions,
) -> None:
    rng = random.Random(23)
    born = [dt.date(1931, 5, 1), dt.date(1984, 3, 9), dt.date(dt.date.today().year, 1, 1)]
    namesakes = [
        person(rng, family_name="Sok", given_name="Dara", family_name_km="សុខ",
               given_name_km="ដារ៉ា", birth_date=date)
        for date in born
    ]  # fmt: skip
    year_only = person(
        rng, family_name="Sok", given_name="Dara", family_name_km="សុខ", given_name_km="ដារ៉ា",
        birth_date=dt.date(1990, 1, 1), birth_precision="year",
    )  # fmt: skip
    other = person(
        rng, family_name="Sok", given_name="Vanna", family_name_km="សុខ",
        given_name_km="វណ្ណា", birth_date=dt.date(1984, 3, 9),
    )  # fmt: skip
    await add_people(sessions, [*namesakes, year_only, other])
    async with sessions() as session:
        hits = await search_people(session, "ដារ៉ា", "សុខ")
    assert sorted(hit.person.spid for hit in hits) == sorted(
        p.spid for p in [*namesakes, year_only]
    )
    assert {hit.score for hit in hits} == {1.0}
    assert all(hit.birth_date_score is None for hit in hits)
