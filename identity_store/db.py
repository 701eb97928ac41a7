"""Engines and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from identity_store.errors import RegistryError

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url``.

    A PostgreSQL URL may carry ``?search_path=<schema>`` to work inside one schema (the
    tests give each test a schema of its own). A SQLite file's folder is created.
    """
    parsed = make_url(url)
    driver = parsed.drivername
    if driver not in SUPPORTED_DRIVERS:
        raise RegistryError(
            f"unsupported database URL driver {driver!r}; use one of "
            f"{', '.join(SUPPORTED_DRIVERS)} (e.g. sqlite+aiosqlite:///.tonle/registry.db)."
        )
    connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
    if driver.startswith("postgresql"):
        query = dict(parsed.query)
        search_path = query.pop("search_path", None)
        if search_path:
            settings = dict(connect_args.get("server_settings", {}))
            settings["search_path"] = str(search_path)
            connect_args["server_settings"] = settings
        parsed = parsed.set(query=query)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
        kwargs.setdefault("pool_pre_ping", True)
    else:
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(parsed, connect_args=connect_args, **kwargs)
    if driver.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
