"""The admin trail: every change an admin makes, and every sign-in, sign-out, failed
sign-in and lock-out — who, when, what, from where (``admin_action``, append-only).

Details name what changed (a partner code, a key id, a draft and version number, a
reason) and never a password, a key or anything about a registered person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from starlette.requests import Request

from policies.console.accounts import aware
from policies.console.models import AdminAction
from policies.console.state import console
from policies.repository import Sessions, utcnow

ANONYMOUS = "(not signed in)"


@dataclass(frozen=True)
class TrailEntry:
    id: int
    at: dt.datetime
    username: str
    action: str
    target: str
    details: dict[str, Any]
    client_address: str | None
    user_agent: str | None


async def record(
    request: Request,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    *,
    username: str | None = None,
) -> None:
    """Write one trail entry for this request's admin (or ``username``, e.g. at sign-in)."""
    admin = getattr(request.state, "admin", None)
    who = username or (admin.username if admin is not None else ANONYMOUS)
    await write(
        console(request).sessions,
        username=who,
        action=action,
        target=target,
        details=details or {},
        client_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


async def write(
    sessions: Sessions,
    *,
    username: str,
    action: str,
    target: str,
    details: dict[str, Any],
    client_address: str | None = None,
    user_agent: str | None = None,
) -> None:
    """One trail entry (``tonle admin`` commands write theirs with ``client_address``
    ``"command line"``)."""
    async with sessions() as session, session.begin():
        session.add(
            AdminAction(
                at=utcnow(),
                username=username[:64],
                action=action[:64],
                target=target[:200],
                details=details,
                client_address=(client_address or "")[:64] or None,
                user_agent=(user_agent or "")[:300] or None,
            )
        )


async def entries(
    sessions: Sessions,
    *,
    username: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    before_id: int | None = None,
    first: int = 100,
) -> list[TrailEntry]:
    """Trail entries, newest first, filtered; page on with ``before_id`` (the last id seen)."""
    query = select(AdminAction).order_by(AdminAction.id.desc()).limit(first)
    if username:
        query = query.where(AdminAction.username == username)
    if action:
        query = query.where(AdminAction.action == action)
    if since is not None:
        query = query.where(AdminAction.at >= since)
    if until is not None:
        query = query.where(AdminAction.at < until)
    if before_id is not None:
        query = query.where(AdminAction.id < before_id)
    async with sessions() as session:
        rows = await session.scalars(query)
        return [
            TrailEntry(
                id=r.id,
                at=aware(r.at) or utcnow(),
                username=r.username,
                action=r.action,
                target=r.target,
                details=dict(r.details or {}),
                client_address=r.client_address,
                user_agent=r.user_agent,
            )
            for r in rows
        ]


async def actions(sessions: Sessions) -> list[str]:
    """Every action name the trail holds, for the filter's choices."""
    async with sessions() as session:
        found = await session.scalars(select(AdminAction.action).distinct())
        return sorted(found)
