"""Engines and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg).

A statement can always be stopped: when the task awaiting it is cancelled (its client gave
up), and, with ``statement_timeout_s``, when it runs too long. PostgreSQL stops it itself
(asyncpg cancels the query of a cancelled task; ``statement_timeout`` on the server). A
SQLite statement runs in aiosqlite's thread, which a cancelled task does not stop: it is
interrupted (``sqlite3.Connection.interrupt``), and a progress handler ends it at its
deadline.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_

from identity_store.errors import RegistryError, UnsupportedDatabase

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
SEARCH_PATH = "search_path"
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement stopped by its timeout
# SQLite calls the progress handler every this many virtual machine instructions (about
# 0.1 ms of work): a deadline is kept to within a millisecond, and the Python call costs
# under 1% of a statement's time (every 1,000 instructions it cost 5%).
PROGRESS_STEPS = 10_000


class StatementTimeout(RegistryError):
    """A statement ran past the database statement timeout and was stopped."""

    code = "LIMIT_EXCEEDED"


def create_engine(
    url: str,
    *,
    statement_timeout_s: float | None = None,
    pool_size: int | None = None,
    **kwargs: Any,
) -> AsyncEngine:
    """An async engine for ``url``.

    A PostgreSQL URL may carry ``?search_path=<schema>`` to work inside one schema (the
    tests give each test a schema of its own; see :func:`url_with_schema`). A SQLite
    file's folder is created. Statement parameters never appear in errors or logs:
    they are personal data. With ``statement_timeout_s`` (serving processes pass
    :func:`identity_store.statement_timeout_s`), a statement running longer is stopped
    and raises :class:`StatementTimeout`; none or 0: no limit (migrations, batch jobs).
    ``pool_size`` is the most connections the engine holds at once (no overflow).
    """
    timeout = statement_timeout_s if statement_timeout_s and statement_timeout_s > 0 else None
    parsed = make_url(url)
    driver = parsed.drivername
    if driver not in SUPPORTED_DRIVERS:
        raise UnsupportedDatabase(
            f"unsupported database URL driver {driver!r}; use one of "
            f"{', '.join(SUPPORTED_DRIVERS)} (e.g. sqlite+aiosqlite:///.tonle/registry.db)."
        )
    connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
    if pool_size is not None:
        kwargs.update(pool_size=pool_size, max_overflow=0)
    kwargs.setdefault("hide_parameters", True)
    if driver.startswith("postgresql"):
        query = dict(parsed.query)
        search_path = query.pop(SEARCH_PATH, None)
        if search_path:
            settings = dict(connect_args.get("server_settings", {}))
            settings[SEARCH_PATH] = str(search_path)
            connect_args["server_settings"] = settings
        if timeout is not None:
            settings = dict(connect_args.get("server_settings", {}))
            settings["statement_timeout"] = str(max(1, round(timeout * 1000)))
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
        event.listen(engine.sync_engine, "handle_error", _interrupt_sqlite)
        if timeout is not None:
            _SqliteDeadlines(timeout).watch(engine)
    elif timeout is not None:
        event.listen(engine.sync_engine, "handle_error", _postgres_timeout(timeout))
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


def _interrupt_sqlite(context: ExceptionContext) -> None:
    """A statement whose task was cancelled is interrupted, not left to run to its end.

    It runs in aiosqlite's thread; without this the connection (and the pool's slot) stays
    busy until the statement ends, long after its client gave up.
    """
    if not isinstance(context.original_exception, asyncio.CancelledError):
        return
    connection = context.connection
    if connection is None or connection.closed or connection.invalidated:
        return
    driver = connection.connection.driver_connection
    if driver is not None:
        await_(driver.interrupt())  # thread-safe: sqlite3_interrupt


def _timed_out(timeout_s: float) -> StatementTimeout:
    return StatementTimeout(
        f"the registry stopped a statement that ran longer than {timeout_s:g} s "
        "(TONLE_DB_STATEMENT_TIMEOUT_S); ask for fewer records at once"
    )


def _postgres_timeout(timeout_s: float) -> Any:
    def on_error(context: ExceptionContext) -> StatementTimeout | None:
        code = getattr(context.original_exception, "sqlstate", None)
        return _timed_out(timeout_s) if code == QUERY_CANCELED else None

    return on_error


class _Deadline:
    """When the statement running on one SQLite connection must stop; read in its thread."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = math.inf

    def passed(self) -> bool:
        return time.monotonic() > self.at


class _SqliteDeadlines:
    """A statement timeout for SQLite: a progress handler ends statements past their deadline."""

    KEY = "tonle_deadline"

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s

    def watch(self, engine: AsyncEngine) -> None:
        sync = engine.sync_engine
        event.listen(sync, "connect", self.connect)
        event.listen(sync, "before_cursor_execute", self.start)
        event.listen(sync, "after_cursor_execute", self.stop)
        event.listen(sync, "handle_error", self.failed)

    def connect(self, dbapi_connection: Any, record: Any) -> None:
        deadline = _Deadline()
        record.info[self.KEY] = deadline
        await_(
            dbapi_connection.driver_connection.set_progress_handler(deadline.passed, PROGRESS_STEPS)
        )

    def _deadline(self, connection: Any) -> _Deadline | None:
        if connection is None or connection.closed or connection.invalidated:
            return None
        found = connection.connection.info.get(self.KEY)
        return found if isinstance(found, _Deadline) else None

    def start(self, connection: Any, *_: Any) -> None:
        deadline = self._deadline(connection)
        if deadline is not None:
            deadline.at = time.monotonic() + self.timeout_s

    def stop(self, connection: Any, *_: Any) -> None:
        deadline = self._deadline(connection)
        if deadline is not None:
            deadline.at = math.inf

    def failed(self, context: ExceptionContext) -> StatementTimeout | None:
        deadline = self._deadline(context.connection)
        if deadline is None:
            return None
        expired = deadline.passed()
        deadline.at = math.inf  # the rollback that follows must not be stopped too
        error = context.original_exception
        interrupted = isinstance(error, sqlite3.OperationalError) and "interrupt" in str(error)
        return _timed_out(self.timeout_s) if expired and interrupted else None


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
