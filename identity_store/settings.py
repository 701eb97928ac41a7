"""The registry's settings, read from ``TONLE_*`` environment variables."""

from __future__ import annotations

import os

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///.tonle/registry.db"


def database_url() -> str:
    """``TONLE_DATABASE_URL``: ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://...``."""
    return os.environ.get("TONLE_DATABASE_URL") or DEFAULT_DATABASE_URL


STATEMENT_TIMEOUT_ENV = "TONLE_DB_STATEMENT_TIMEOUT_S"
DEFAULT_STATEMENT_TIMEOUT_S = 10.0


def statement_timeout_s() -> float | None:
    """``TONLE_DB_STATEMENT_TIMEOUT_S`` (default 10): how long a serving process's statement
    may run before the database stops it; 0 turns the limit off."""
    raw = os.environ.get(STATEMENT_TIMEOUT_ENV, "")
    if not raw:
        return DEFAULT_STATEMENT_TIMEOUT_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise SystemExit(
            f"{STATEMENT_TIMEOUT_ENV}={raw!r} is not a number of seconds; set it like "
            f"{STATEMENT_TIMEOUT_ENV}=10 (0: no limit)"
        )
    return seconds or None


POOL_SIZE_ENV = "TONLE_DB_POOL_SIZE"


def pool_size() -> int | None:
    """``TONLE_DB_POOL_SIZE``: the most database connections a serving process holds at once
    (unset: SQLAlchemy's defaults, 10 + 10 overflow on PostgreSQL, 5 + 10 on SQLite)."""
    raw = os.environ.get(POOL_SIZE_ENV, "")
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{POOL_SIZE_ENV}={raw!r}: give a whole number of connections, at least 1")
    return int(raw)
