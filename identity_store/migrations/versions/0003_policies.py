"""Access policies: partners and their API keys, policy versions and publications, the
access log with its subjects and signed checkpoints (models: ``policies/models.py``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KINDS = ("operator", "ministry", "development_partner", "analyst", "registry_staff")


def _now() -> sa.Column[Any]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "partner",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("contact", sa.String(200), nullable=True),
        sa.Column("operator", sa.String(32), nullable=True),
        sa.Column("xroad_client", sa.String(200), nullable=True),
        _now(),
        sa.CheckConstraint(
            "kind IN (" + ", ".join(repr(k) for k in KINDS) + ")", name=op.f("ck_partner_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner")),
        sa.UniqueConstraint("code", name=op.f("uq_partner_code")),
        sa.UniqueConstraint("xroad_client", name=op.f("uq_partner_xroad_client")),
    )
    op.create_table(
        "partner_api_key",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("partner_id", Id, nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(100), nullable=True),
        _now(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"], name=op.f("fk_partner_api_key_partner_id_partner")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_api_key")),
        sa.UniqueConstraint("key_id", name=op.f("uq_partner_api_key_key_id")),
    )
    op.create_index("ix_partner_api_key_partner_id", "partner_api_key", ["partner_id"])
    op.create_table(
        "policy_version",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        _now(),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_policy_version")),
    )
    op.create_table(
        "policy_publication",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "published_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("published_by", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.ForeignKeyConstraint(
            ["version"],
            ["policy_version.number"],
            name=op.f("fk_policy_publication_version_policy_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_publication")),
    )
    op.create_table(
        "policy_epoch",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_epoch")),
    )
    op.execute("INSERT INTO policy_epoch (id, epoch) VALUES (1, 0)")
    op.create_table(
        "access_log",
        sa.Column("seq", Id, autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("end_user", sa.String(200), nullable=True),
        sa.Column("operation_name", sa.String(200), nullable=True),
        sa.Column("document_hash", sa.String(64), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_access_log")),
    )
    op.create_index("ix_access_log_partner_at", "access_log", ["partner", "at"])
    op.create_index("ix_access_log_at", "access_log", ["at"])
    op.create_table(
        "access_subject",
        sa.Column("seq", Id, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["seq"], ["access_log.seq"], name=op.f("fk_access_subject_seq_access_log")
        ),
        sa.PrimaryKeyConstraint("seq", "kind", "subject_id", name="pk_access_subject"),
    )
    op.create_index(
        "ix_access_subject_kind_subject_id_seq", "access_subject", ["kind", "subject_id", "seq"]
    )
    op.create_table(
        "access_checkpoint",
        sa.Column("seq", Id, autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_access_checkpoint")),
    )
    _append_only()


# The access log is append-only. Triggers are defence in depth, not the proof: whoever owns
# the database can drop them, and the hash chain with its signed checkpoints catches that.
APPEND_ONLY = ("access_log", "access_subject", "access_checkpoint")


def _append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the access log is append-only: % on % refused',
                    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION access_log_append_only()"
            )
            # TRUNCATE fires no row trigger.
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()"
            )
        return
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the access log is append-only: {action} on "
                f"{table} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS access_log_append_only()")
    for table in (
        "access_checkpoint",
        "access_subject",
        "access_log",
        "policy_epoch",
        "policy_publication",
        "policy_version",
        "partner_api_key",
        "partner",
    ):
        op.drop_table(table)
