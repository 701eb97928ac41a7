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

from identity_store.errors import UnsupportedDatabase

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
SEARCH_PATH = "search_path"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url``.

    A PostgreSQL URL may carry ``?search_path=<schema>`` to work inside one schema (the
    tests give each test a schema of its own; see :func:`url_with_schema`). A SQLite
    file's folder is created. Statement parameters never appear in errors or logs:
    they are personal data.
    """
    parsed = make_url(url)
    driver = parsed.drivername
    if driver not in SUPPORTED_DRIVERS:
        raise UnsupportedDatabase(
            f"unsupported database URL driver {driver!r}; use one of "
            f"{', '.join(SUPPORTED_DRIVERS)} (e.g. sqlite+aiosqlite:///.tonle/registry.db)."
        )
    connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
    kwargs.setdefault("hide_parameters", True)
    if driver.startswith("postgresql"):
        query = dict(parsed.query)
        search_path = query.pop(SEARCH_PATH, None)
        if search_path:
            settings = dict(connect_args.get("server_settings", {}))
            settings[SEARCH_PATH] = str(search_path)
            connect_args["server_settings"] = settings
        parsed = parsed.set(query=query)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
        kwargs.setdefault("pool_pre_ping", True)
    else:
        if SEARCH_PATH in parsed.query:
            raise UnsupportedDatabase(
                "search_path is a PostgreSQL setting; a SQLite database has no schemas. "
                "Remove ?search_path from the URL or give each test its own file."
            )
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(parsed, connect_args=connect_args, **kwargs)
    if driver.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def url_with_schema(url: str, schema: str) -> str:
    """``url`` with ``?search_path=<schema>``, so that its engines work inside ``schema``."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise UnsupportedDatabase(
            f"only a PostgreSQL URL can name a schema; got a {parsed.drivername} URL."
        )
    with_schema = parsed.update_query_dict({SEARCH_PATH: schema})
    return with_schema.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Journal mode (WAL) is a property of the file, set once by migrate(): switching it
    # here would fail when two connections open a new file at the same moment.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
