"""The policy tables the migrations create are exactly the ones the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from identity_store import create_engine, migrate
from policies.models import PolicyBase
from tests.migrations import table_of


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
    ours = [c for c in changes if table_of(c) in names]
    assert ours == []
