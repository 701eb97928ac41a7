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
