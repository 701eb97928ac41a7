"""A migrated registry for each test, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store import create_engine, migrate, session_factory
from identity_store.models import (
    BlockingKey,
    Household,
    Person,
    ProgramLink,
    RegistrationEvent,
    RegistrationRequest,
    ReviewCase,
)

TABLES = (
    Person,
    BlockingKey,
    ProgramLink,
    RegistrationEvent,
    RegistrationRequest,
    ReviewCase,
    Household,
)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await migrate(database_url)
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def row_counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """How many rows each registry table holds."""
    async with sessions() as session:
        return {
            table.__tablename__: int(
                await session.scalar(select(func.count()).select_from(table)) or 0
            )
            for table in TABLES
        }
