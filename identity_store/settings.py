"""The registry's settings, read from ``TONLE_*`` environment variables."""

from __future__ import annotations

import os

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///.tonle/registry.db"


def database_url() -> str:
    """``TONLE_DATABASE_URL``: ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://...``."""
    return os.environ.get("TONLE_DATABASE_URL") or DEFAULT_DATABASE_URL
