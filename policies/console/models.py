"""The console's tables: admin accounts and their sessions, the admin trail, policy drafts.

Created by the registry's migration ``0005_console.py`` beside the policy tables, on the
same metadata (``policies.models.PolicyBase``), so one migration history upgrades all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from policies.models import Id, PolicyBase

ROLES = ("editor", "approver", "auditor")
DRAFT_KINDS = ("change", "rollback")
DRAFT_STATUSES = ("draft", "submitted", "published", "rejected", "withdrawn")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class AdminUser(PolicyBase):
    """A policy admin's account: an argon2 password hash, roles, lock-out state."""

    __tablename__ = "admin_user"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Failed sign-ins since ``failed_since``; enough of them within the window lock it.
    failed_count: Mapped[int] = mapped_column(Integer, server_default="0")
    failed_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AdminSession(PolicyBase):
    """A signed-in browser: the cookie holds a random token, this row only its SHA-256."""

    __tablename__ = "admin_session"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("admin_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # The absolute end, whatever the activity; idleness ends it sooner.
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    csrf_token: Mapped[str] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    # Messages for the next page this session sees ("Draft 3 submitted"), then cleared.
    flash: Mapped[list[str] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_admin_session_user_id", "user_id"),)


class AdminAction(PolicyBase):
    """One entry of the admin trail: who did what, when, from where. Append-only."""

    __tablename__ = "admin_action"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        Index("ix_admin_action_at", "at"),
        Index("ix_admin_action_username_at", "username", "at"),
    )


class PolicyDraft(PolicyBase):
    """A policy document being changed, and the four-eyes decision on it."""

    __tablename__ = "policy_draft"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    # The published version the draft started from (None when nothing was published).
    base_version: Mapped[int | None] = mapped_column(Integer)
    # The canonical JSON of the policy document (PolicyDocument.to_json()).
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(16))
    rollback_of: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    published_version: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint(_in("kind", DRAFT_KINDS), name="kind"),
        CheckConstraint(_in("status", DRAFT_STATUSES), name="status"),
        Index("ix_policy_draft_status", "status"),
    )
