"""The database itself refuses to change or delete access records (defence in depth)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from policies.audit import AccessLog
from tests.policies.audit.conftest import Sessions, entry
from tests.policies.audit.tamper import drop_triggers, sql

STATEMENTS = [
    "UPDATE access_log SET partner = 'other'",
    "DELETE FROM access_log",
    "UPDATE access_subject SET subject_id = '999999999999'",
    "DELETE FROM access_subject",
    "UPDATE access_checkpoint SET hash = 'x'",
    "DELETE FROM access_checkpoint",
]


async def _one_signed_record(sessions: Sessions, signing_key) -> None:  # type: ignore[no-untyped-def]
    async with AccessLog(sessions, signing_key=signing_key) as log:
        await log.append(entry(1))  # close() signs a checkpoint over it


@pytest.mark.parametrize("statement", STATEMENTS)
async def test_updates_and_deletes_are_refused(
    sessions: Sessions, signing_key, statement: str
) -> None:  # type: ignore[no-untyped-def]
    await _one_signed_record(sessions, signing_key)
    with pytest.raises(DBAPIError, match="append-only"):
        await sql(sessions, statement)


async def test_truncate_is_refused_on_postgresql(sessions: Sessions, signing_key) -> None:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("SQLite has no TRUNCATE")
    await _one_signed_record(sessions, signing_key)
    for table in ("access_checkpoint", "access_subject", "access_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            await sql(sessions, f"TRUNCATE {table} CASCADE")


async def test_a_dba_who_drops_the_triggers_can_change_rows(
    sessions: Sessions, signing_key
) -> None:  # type: ignore[no-untyped-def]
    # The premise of the tamper tests: the triggers are what stopped the statements above.
    await _one_signed_record(sessions, signing_key)
    await drop_triggers(sessions)
    for statement in sorted(STATEMENTS, key=lambda s: "access_log" in s):  # subjects first (FK)
        await sql(sessions, statement)
    async with sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM access_log")) == 0
