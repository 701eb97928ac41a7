"""Households by area: each household's commune, district and province codes, indexed with
its ID for keyset pages at every level of the gazetteer, as people have since 0002.

The codes come from the gazetteer entry of the household's village (not the code's
prefix: 25 villages lie in a commune their code does not start with). The columns stay
nullable in the database: making them NOT NULL on SQLite would rebuild ``household``,
which ``person`` references; the registry always fills them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from identity_store.gazetteer import area_codes

revision = "0006"
down_revision = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = (("commune_code", 6), ("district_code", 4), ("province_code", 2))


def upgrade() -> None:
    for column, digits in LEVELS:
        op.add_column("household", sa.Column(column, sa.String(digits), nullable=True))
    household = sa.table(
        "household",
        sa.column("village_code", sa.String),
        *(sa.column(column, sa.String) for column, _ in LEVELS),
    )
    bind = op.get_bind()
    villages = bind.execute(sa.select(household.c.village_code).distinct()).scalars().all()
    if villages:
        bind.execute(
            household.update()
            .where(household.c.village_code == sa.bindparam("b_village"))
            .values({column: sa.bindparam(f"b_{column}") for column, _ in LEVELS}),
            [
                {
                    "b_village": village,
                    **{f"b_{column}": area_codes(village)[column] for column, _ in LEVELS},
                }
                for village in villages
            ],
        )
    for column, _ in LEVELS:
        op.create_index(
            f"ix_household_{column}_household_id", "household", [column, "household_id"]
        )


def downgrade() -> None:
    for column, _ in LEVELS:
        op.drop_index(f"ix_household_{column}_household_id", table_name="household")
    with op.batch_alter_table("household") as batch:
        for column, _ in LEVELS:
            batch.drop_column(column)
