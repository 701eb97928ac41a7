"""The policy console: admin accounts and sessions, the admin trail, policy drafts
(models: ``policies/console/models.py``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KINDS = ("change", "rollback")
STATUSES = ("draft", "submitted", "published", "rejected", "withdrawn")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _at(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "admin_user",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        _at("disabled_at", True),
        sa.Column("failed_count", sa.Integer(), server_default="0", nullable=False),
        _at("failed_since", True),
        _at("locked_until", True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_user")),
        sa.UniqueConstraint("username", name=op.f("uq_admin_user_username")),
    )
    op.create_table(
        "admin_session",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", Id, nullable=False),
        _at("created_at"),
        _at("last_seen_at"),
        _at("expires_at"),
        _at("revoked_at", True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("flash", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["admin_user.id"], name=op.f("fk_admin_session_user_id_admin_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_admin_session_token_hash")),
    )
    op.create_index("ix_admin_session_user_id", "admin_session", ["user_id"])
    op.create_table(
        "admin_action",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        _at("at"),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_action")),
    )
    op.create_index("ix_admin_action_at", "admin_action", ["at"])
    op.create_index("ix_admin_action_username_at", "admin_action", ["username", "at"])
    op.create_table(
        "policy_draft",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("rollback_of", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(64), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        _at("submitted_at", True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        _at("decided_at", True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.CheckConstraint(_in("kind", KINDS), name=op.f("ck_policy_draft_kind")),
        sa.CheckConstraint(_in("status", STATUSES), name=op.f("ck_policy_draft_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_draft")),
    )
    op.create_index("ix_policy_draft_status", "policy_draft", ["status"])
    _append_only()


# The admin trail is append-only, like the access log (0003): defence in depth against a
# slip in code, not against whoever owns the database.
def _append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION admin_action_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the admin trail is append-only: % on % refused',
                    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER admin_action_append_only BEFORE UPDATE OR DELETE ON admin_action "
            "FOR EACH ROW EXECUTE FUNCTION admin_action_append_only()"
        )
        op.execute(
            "CREATE TRIGGER admin_action_no_truncate BEFORE TRUNCATE ON admin_action "
            "FOR EACH STATEMENT EXECUTE FUNCTION admin_action_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER admin_action_no_{action.lower()} BEFORE {action} ON admin_action "
            f"BEGIN SELECT RAISE(ABORT, 'the admin trail is append-only: {action} on "
            "admin_action refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS admin_action_append_only ON admin_action")
        op.execute("DROP TRIGGER IF EXISTS admin_action_no_truncate ON admin_action")
        op.execute("DROP FUNCTION IF EXISTS admin_action_append_only()")
    for table in ("policy_draft", "admin_action", "admin_session", "admin_user"):
        op.drop_table(table)
