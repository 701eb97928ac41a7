"""The policy tables the migrations create are exactly the ones the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from identity_store import create_engine, migrate
from policies.models import PolicyBase


async def test_migrations_create_the_policy_tables_as_modelled(database_url: str) -> None:
    await migrate(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:

            def diff(sync: Any) -> list[Any]:
                context = MigrationContext.configure(sync, opts={"compare_type": True})
                return list(compare_metadata(context, PolicyBase.metadata))

            changes = await connection.run_sync(diff)
    finally:
        await engine.dispose()
    names = set(PolicyBase.metadata.tables)
    # Only differences about the policy tables count; the registry's own tables are
    # another metadata's business (and show up here as "not in this metadata").
    ours = [c for c in changes if _table_of(c) in names]
    assert ours == []


def _table_of(change: Any) -> str | None:
    """The table an alembic difference is about."""
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
