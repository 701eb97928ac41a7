"""The registry's store, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from identity_store import (
    InvalidInput,
    add_people,
    count_people,
    create_engine,
    migrate,
    most_populous_village,
    people_by_spids,
    people_in_village,
    session_factory,
)
from tests.identity_store.people import OTHER_VILLAGE, VILLAGE, person


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await migrate(database_url)
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def test_migrations_run_twice_without_harm(database_url: str) -> None:
    await migrate(database_url)
    await migrate(database_url)
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        assert await count_people(session) == 0
    await engine.dispose()


async def test_people_added_are_found_by_spid_in_one_query(engine: AsyncEngine) -> None:
    rng = random.Random(1)
    people = [person(rng) for _ in range(100)]
    sessions = session_factory(engine)
    assert await add_people(sessions, people) == 100
    statements: list[str] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement),
    )
    async with sessions() as session:
        found = await people_by_spids(session, [p.spid for p in people] + ["000000000000"])
    assert len(statements) == 1
    assert set(found) == {p.spid for p in people}
    assert found[people[0].spid].family_name == "Sok"


async def test_a_village_is_walked_page_by_page_exactly_once(engine: AsyncEngine) -> None:
    rng = random.Random(2)
    here = [person(rng) for _ in range(23)]
    elsewhere = [person(rng, village_code=OTHER_VILLAGE) for _ in range(5)]
    sessions = session_factory(engine)
    await add_people(sessions, here + elsewhere)
    seen: list[str] = []
    after = None
    async with sessions() as session:
        while True:
            page = await people_in_village(session, VILLAGE, 5, after)
            seen.extend(p.spid for p in page.people)
            if not page.has_next_page:
                break
            after = page.end_cursor
        assert await most_populous_village(session) == VILLAGE
    assert seen == sorted(p.spid for p in here)


async def test_bad_people_are_refused_and_nothing_is_stored(engine: AsyncEngine) -> None:
    rng = random.Random(3)
    good = person(rng)
    cases = {
        "check digit": person(rng, spid=good.spid[:-1] + str((int(good.spid[-1]) + 1) % 10)),
        "Khmer ID is issued only from age 15": person(
            rng, khmer_id="123456789", birth_date=dt.date.today() - dt.timedelta(days=365 * 10)
        ),
        "not in the gazetteer": person(rng, village_code="99999999"),
        "not 8 digits": person(rng, village_code="0102"),
        "9 digits": person(rng, khmer_id="12345"),
        "sex": person(rng, sex="x"),
    }
    sessions = session_factory(engine)
    for expected, bad in cases.items():
        with pytest.raises(InvalidInput, match=expected):
            await add_people(sessions, [good, bad])
    async with sessions() as session:
        assert await count_people(session) == 0


async def test_a_duplicate_spid_fails_its_batch_and_keeps_what_was_stored(
    engine: AsyncEngine,
) -> None:
    rng = random.Random(4)
    first = person(rng)
    sessions = session_factory(engine)
    await add_people(sessions, [first])
    with pytest.raises(InvalidInput, match="already registered"):
        await add_people(sessions, [person(rng), first])
    async with sessions() as session:
        assert await count_people(session) == 1


async def test_a_forged_cursor_is_bad_input(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        with pytest.raises(InvalidInput, match="cursor"):
            await people_in_village(session, VILLAGE, 5, "bm90LWEtY3Vyc29y")
        with pytest.raises(InvalidInput, match="first must be between"):
            await people_in_village(session, VILLAGE, 0)
