"""The registry's store, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from identity_store import (
    AlreadyRegistered,
    Base,
    InvalidCursor,
    InvalidInput,
    PersonPage,
    UnsupportedDatabase,
    add_people,
    count_people,
    create_engine,
    decode_cursor,
    encode_cursor,
    is_valid_spid,
    migrate,
    most_populous_village,
    new_spid,
    people_by_spids,
    people_in_village,
    session_factory,
    url_with_schema,
)
from policies.models import PolicyBase
from tests.identity_store.people import OTHER_VILLAGE, VILLAGE, person
from tests.migrations import table_of


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
    with pytest.raises(AlreadyRegistered, match="already registered"):
        await add_people(sessions, [person(rng), first])
    async with sessions() as session:
        assert await count_people(session) == 1


async def test_a_forged_cursor_is_bad_input(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        with pytest.raises(InvalidCursor, match="cursor"):
            await people_in_village(session, VILLAGE, 5, "bm90LWEtY3Vyc29y")
        with pytest.raises(InvalidInput, match="first must be between"):
            await people_in_village(session, VILLAGE, 0)


async def test_a_batch_larger_than_postgres_parameter_limit_is_one_query(
    engine: AsyncEngine,
) -> None:
    rng = random.Random(5)
    people = [person(rng) for _ in range(50)]
    sessions = session_factory(engine)
    await add_people(sessions, people)
    unknown = [new_spid(rng) for _ in range(40_000)]
    statements: list[str] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement),
    )
    async with sessions() as session:
        found = await people_by_spids(session, unknown + [p.spid for p in people])
    assert len(statements) == 1
    assert set(found) == {p.spid for p in people}


async def test_malformed_spids_are_absent_without_a_query(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        assert await people_by_spids(session, ["", "12345", "x" * 12, "1" * 12]) == {}


async def test_migrations_running_at_once_both_succeed(database_url: str) -> None:
    await asyncio.gather(migrate(database_url), migrate(database_url))
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        assert await count_people(session) == 0
        if engine.dialect.name == "sqlite":
            mode = await session.execute(text("PRAGMA journal_mode"))
            assert mode.scalar() == "wal"
    await engine.dispose()


async def test_a_page_never_shows_someone_from_another_village(engine: AsyncEngine) -> None:
    rng = random.Random(6)
    sessions = session_factory(engine)
    await add_people(sessions, [person(rng, village_code=OTHER_VILLAGE) for _ in range(3)])
    async with sessions() as session:
        page = await people_in_village(session, VILLAGE, 10)
        assert page == PersonPage(people=(), has_next_page=False, end_cursor=None)
        assert await count_people(session, OTHER_VILLAGE) == 3


@given(spid=st.builds(new_spid, st.randoms(use_true_random=False)))
def test_a_cursor_leads_back_to_its_spid(spid: str) -> None:
    assert decode_cursor(encode_cursor(spid)) == spid


@given(cursor=st.text() | st.binary().map(lambda b: base64.b64encode(b).decode()))
def test_any_other_cursor_is_invalid_cursor_or_a_valid_spid(cursor: str) -> None:
    try:
        spid = decode_cursor(cursor)
    except InvalidCursor as error:
        assert "endCursor of the previous page" in str(error)
    else:
        assert is_valid_spid(spid)


def test_a_sqlite_url_cannot_name_a_schema(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    with pytest.raises(UnsupportedDatabase, match="SQLite database has no schemas"):
        create_engine(url + "?search_path=t_x")
    with pytest.raises(UnsupportedDatabase, match="only a PostgreSQL URL"):
        url_with_schema(url, "t_x")
    with pytest.raises(UnsupportedDatabase, match="use one of"):
        create_engine("mysql+aiomysql://db/registry")


def test_a_schema_is_carried_in_the_url() -> None:
    url = url_with_schema("postgresql+asyncpg://postgres:pw@127.0.0.1:5432/test", "t_abc")
    assert url == "postgresql+asyncpg://postgres:pw@127.0.0.1:5432/test?search_path=t_abc"


async def test_the_migrations_build_exactly_the_models_tables(database_url: str) -> None:
    await migrate(database_url)
    engine = create_engine(database_url)

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        changes = await connection.run_sync(differences)
    await engine.dispose()
    # The same migrations create the policy tables; those are policies.models' business
    # (tests/policies/test_models.py) and show up here as "not in this metadata".
    policy_tables = set(PolicyBase.metadata.tables)
    assert [c for c in changes if table_of(c) not in policy_tables] == []
