"""The person table.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("spid", sa.String(12), nullable=False),
        sa.Column("khmer_id", sa.String(9), nullable=True),
        sa.Column("family_name", sa.String(100), nullable=False),
        sa.Column("given_name", sa.String(100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(7), nullable=False),
        sa.Column("village_code", sa.String(8), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "sex IN ('male', 'female', 'other', 'unknown')", name=op.f("ck_person_sex")
        ),
        sa.PrimaryKeyConstraint("spid", name=op.f("pk_person")),
        sa.UniqueConstraint("khmer_id", name=op.f("uq_person_khmer_id")),
    )
    op.create_index("ix_person_village_code_spid", "person", ["village_code", "spid"])


def downgrade() -> None:
    op.drop_index("ix_person_village_code_spid", table_name="person")
    op.drop_table("person")
