"""Reading alembic's differences between a database and a metadata, for migration tests."""

from __future__ import annotations

from typing import Any


def table_of(change: Any) -> str | None:
    """The table an alembic difference (``compare_metadata``) is about."""
    if isinstance(change, list):  # column modifications come as a list of tuples
        change = change[0]
    kind, *rest = change
    if kind in ("add_table", "remove_table"):
        return str(rest[0].name)
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        return str(rest[0].table.name)
    if kind in ("add_fk", "remove_fk"):
        return str(rest[0].parent.name)
    # add_column, remove_column, modify_*: (kind, schema, table, ...)
    return str(rest[1])


async def model_differences(database_url: str, metadata: Any, tables: set[str]) -> list[Any]:
    """What alembic finds different between the migrated database and ``metadata``, for
    ``tables`` only (other metadata's tables show up as "not in this metadata")."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from identity_store import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:

            def diff(sync: Any) -> list[Any]:
                context = MigrationContext.configure(sync, opts={"compare_type": True})
                return list(compare_metadata(context, metadata))

            changes = await connection.run_sync(diff)
    finally:
        await engine.dispose()
    return [c for c in changes if table_of(c) in tables]
