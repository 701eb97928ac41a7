"""Running the registry's alembic migrations from code, on SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from identity_store.db import create_engine

# Any fixed number: PostgreSQL advisory locks are keyed by a bigint.
_MIGRATION_LOCK = 0x746F6E6C65  # "tonle"


def alembic_config() -> Config:
    """An alembic configuration pointing into this package; no alembic.ini needed."""
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("identity_store").joinpath("migrations"))
    )
    return config


async def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` (schema ``?search_path=`` if given) to ``revision``."""
    engine = create_engine(url)
    try:
        if engine.dialect.name == "sqlite":
            await _use_wal(engine)
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()


async def _use_wal(engine: AsyncEngine, attempts: int = 100) -> None:
    """Put a SQLite file in WAL mode (readers never wait for the writer); it persists."""
    for attempt in range(attempts):
        try:
            async with engine.connect() as connection:
                await connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            return
        except OperationalError:
            # SQLite refuses the switch, without waiting, while another connection
            # is opening the same new file.
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.02)


def _upgrade(connection: Connection, revision: str) -> None:
    # Several processes may start at once against one database; taking the write lock
    # first makes the second wait and then find the schema already at head.
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
    else:
        # The sqlite3 driver opens no transaction before DDL by itself; this one is
        # committed by the engine.begin() block around us.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
