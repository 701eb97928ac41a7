"""The console's tables the migration creates are exactly the ones its models describe."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from identity_store import create_engine, migrate
from policies.console import models
from policies.models import PolicyBase
from tests.migrations import model_differences

CONSOLE_TABLES = {"admin_user", "admin_session", "admin_action", "policy_draft"}


async def test_migrations_create_the_console_tables_as_modelled(database_url: str) -> None:
    assert set(PolicyBase.metadata.tables) >= CONSOLE_TABLES, models.__name__
    await migrate(database_url)
    assert await model_differences(database_url, PolicyBase.metadata, CONSOLE_TABLES) == []


async def test_the_admin_trail_refuses_updates_and_deletes(database_url: str) -> None:
    await migrate(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO admin_action (at, username, action, target, details) "
                    "VALUES (CURRENT_TIMESTAMP, 'amara', 'sign_in', 'amara', '{}')"
                )
            )
        for statement in (
            "UPDATE admin_action SET username = 'someone-else'",
            "DELETE FROM admin_action",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as connection:
                    await connection.execute(text(statement))
    finally:
        await engine.dispose()
