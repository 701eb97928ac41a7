"""Running the registry's alembic migrations from code, on SQLite or PostgreSQL."""

from __future__ import annotations

from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config

from identity_store.db import create_engine


def alembic_config() -> Config:
    """An alembic configuration pointing into this package; no alembic.ini needed."""
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("identity_store").joinpath("migrations"))
    )
    return config


async def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision``."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()


def _upgrade(connection: Any, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
