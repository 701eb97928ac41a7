"""The policy tables the migrations create are exactly the ones the models describe."""

from __future__ import annotations

from identity_store import migrate
from policies.models import PolicyBase
from tests.migrations import model_differences


async def test_migrations_create_the_policy_tables_as_modelled(database_url: str) -> None:
    await migrate(database_url)
    # Only differences about the policy tables count; the registry's own tables are
    # another metadata's business.
    names = set(PolicyBase.metadata.tables)
    assert await model_differences(database_url, PolicyBase.metadata, names) == []
