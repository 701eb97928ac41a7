"""Statements that stop: when their task is cancelled, and past the statement timeout."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from identity_store import StatementTimeout, create_engine, statement_timeout_s


def heavy(engine: AsyncEngine, marker: str) -> str:
    """A statement that runs for tens of seconds, whichever the backend."""
    if engine.dialect.name == "sqlite":
        # Counting to 200 million in SQLite's virtual machine: about 25 s.
        return (
            f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
            f"WHERE x < 200000000) SELECT count(*) /* {marker} */ FROM c"
        )
    return f"SELECT pg_sleep(60) /* {marker} */"


async def run(engine: AsyncEngine, statement: str) -> object:
    async with engine.connect() as connection:
        return (await connection.execute(text(statement))).scalar()


async def still_running(engine: AsyncEngine, marker: str) -> bool:
    """Whether the database server is still running the statement holding ``marker``."""
    async with engine.connect() as connection:
        found = await connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                "AND query LIKE :pattern AND pid <> pg_backend_pid()"
            ),
            {"pattern": f"%{marker}%"},
        )
        return bool(found.scalar())


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine whose pool holds a single connection: a busy one blocks every other use."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=30)
    yield engine
    await engine.dispose()


async def test_a_cancelled_statement_stops_and_frees_its_connection_at_once(
    one_connection: AsyncEngine, database_url: str
) -> None:
    marker = f"tonle-{uuid.uuid4().hex[:8]}"
    statement = asyncio.create_task(run(one_connection, heavy(one_connection, marker)))
    await asyncio.sleep(0.5)
    assert not statement.done()
    assert one_connection.pool.checkedout() == 1  # type: ignore[attr-defined]
    cancelled_at = time.monotonic()
    statement.cancel()
    with pytest.raises(asyncio.CancelledError):
        await statement
    # The pool's only connection answers the next statement at once, not when the
    # cancelled one would have ended.
    assert await asyncio.wait_for(run(one_connection, "SELECT 1"), timeout=2) == 1
    freed_s = time.monotonic() - cancelled_at
    assert freed_s < 1.0, f"the connection was free again after {freed_s:.2f} s"
    if one_connection.dialect.name == "postgresql":
        observer = create_engine(database_url)
        try:
            assert not await still_running(observer, marker)
        finally:
            await observer.dispose()


async def test_a_statement_past_the_timeout_is_stopped_and_the_connection_serves_on(
    database_url: str,
) -> None:
    engine = create_engine(database_url, statement_timeout_s=0.3, pool_size=1, max_overflow=0)
    try:
        started = time.monotonic()
        with pytest.raises(StatementTimeout) as refused:
            await run(engine, heavy(engine, "timeout"))
        stopped_s = time.monotonic() - started
        assert 0.3 <= stopped_s < 1.5, f"stopped after {stopped_s:.2f} s"
        assert refused.value.code == "LIMIT_EXCEEDED"
        assert "0.3 s" in str(refused.value) and "TONLE_DB_STATEMENT_TIMEOUT_S" in str(
            refused.value
        )
        # A quick statement on the same connection is not stopped by the one before.
        assert await run(engine, "SELECT 1") == 1
        await asyncio.sleep(0.4)
        assert await run(engine, "SELECT 2") == 2
    finally:
        await engine.dispose()


async def test_without_a_timeout_a_long_statement_runs_to_its_end(database_url: str) -> None:
    engine = create_engine(database_url, statement_timeout_s=0.2)
    unlimited = create_engine(database_url)
    slow = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
        "SELECT count(*) FROM c"
        if engine.dialect.name == "sqlite"
        else "SELECT count(*) FROM (SELECT pg_sleep(0.5)) AS s"
    )
    try:
        started = time.monotonic()
        assert await run(unlimited, slow) in (1, 3_000_000)
        took = time.monotonic() - started
        assert took > 0.2, f"the slow statement took only {took:.2f} s: make it slower"
        with pytest.raises(StatementTimeout):
            await run(engine, slow)
    finally:
        await engine.dispose()
        await unlimited.dispose()


def test_the_statement_timeout_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TONLE_DB_STATEMENT_TIMEOUT_S", raising=False)
    assert statement_timeout_s() == 10.0
    monkeypatch.setenv("TONLE_DB_STATEMENT_TIMEOUT_S", "2.5")
    assert statement_timeout_s() == 2.5
    monkeypatch.setenv("TONLE_DB_STATEMENT_TIMEOUT_S", "0")
    assert statement_timeout_s() is None
    for wrong in ("-1", "ten"):
        monkeypatch.setenv("TONLE_DB_STATEMENT_TIMEOUT_S", wrong)
        with pytest.raises(SystemExit, match="TONLE_DB_STATEMENT_TIMEOUT_S"):
            statement_timeout_s()
