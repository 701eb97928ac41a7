"""Alembic environment: runs on the connection ``identity_store.migrate`` hands it."""

from __future__ import annotations

from alembic import context

from identity_store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run the registry's migrations with identity_store.migrate(url) "
        "(or `tonle migrate`), which hands alembic a connection"
    )
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
