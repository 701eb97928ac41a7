"""Shared fixtures: every registry test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# The shared Chromium fixtures (`browser`, `tab`) for browser tests; the Redis of the tests.
pytest_plugins = ("tests.browser", "tests.shared_redis")

POSTGRES_ENV = "TONLE_TEST_POSTGRES_URL"
REQUIRE_ENV = "TONLE_REQUIRE_POSTGRES"


async def _postgres_schema_url(base_url: str) -> AsyncIterator[str]:
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    from identity_store import url_with_schema

    parsed = make_url(base_url)
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        connection = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        pytest.fail(
            f"PostgreSQL at {parsed.render_as_string()} cannot be reached ({error}); "
            "start it (pg_ctlcluster ... main start) or unset "
            f"{POSTGRES_ENV} to run the SQLite variants only."
        )
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
        yield url_with_schema(base_url, schema)
    finally:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a SQLite file, or a fresh schema in the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {POSTGRES_ENV} is not set: PostgreSQL tests must run")
        pytest.skip(f"{POSTGRES_ENV} is not set")
    async for url in _postgres_schema_url(base):
        yield url
