"""Admin sessions: a random token in an HttpOnly, SameSite=Strict cookie; its SHA-256 in
``admin_session`` with the session's CSRF token, its idle and absolute ends.

Nothing a browser brings is adopted: a token is only ever made by :func:`open_session`, at
sign-in, so a token planted before sign-in (session fixation) names no session after it.
A session ends when it has been idle too long, at its absolute end, at sign-out, when its
account is disabled or its password changed.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update

from policies.console.accounts import Admin, admin_of, aware
from policies.console.config import ConsoleConfig
from policies.console.models import AdminSession, AdminUser
from policies.repository import Sessions, utcnow

SESSION_COOKIE = "tonle_admin_session"
# Before sign-in there is no session to hold a CSRF token: this cookie holds one for the
# sign-in form (a forged sign-in into the attacker's account is refused too).
PRE_SESSION_COOKIE = "tonle_admin_presession"


@dataclass(frozen=True)
class SessionInfo:
    """A live session: who, its CSRF token, and the messages waiting for the next page."""

    id: int
    admin: Admin
    csrf_token: str
    flash: tuple[str, ...]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(
    sessions: Sessions, config: ConsoleConfig, user_id: int, client_address: str | None
) -> tuple[str, str]:
    """A new session for the account: (the cookie's token, the session's CSRF token)."""
    token, csrf = new_token(), new_token()
    now = utcnow()
    async with sessions() as session, session.begin():
        session.add(
            AdminSession(
                token_hash=token_hash(token),
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + config.session_absolute,
                csrf_token=csrf,
                client_address=(client_address or "")[:64] or None,
            )
        )
    return token, csrf


async def resume(sessions: Sessions, config: ConsoleConfig, token: str) -> SessionInfo | None:
    """The live session this token names (and mark it seen now), or None."""
    if not token or len(token) > 100:
        return None
    now = utcnow()
    async with sessions() as session, session.begin():
        found = (
            await session.execute(
                select(AdminSession, AdminUser)
                .join(AdminUser, AdminUser.id == AdminSession.user_id)
                .where(AdminSession.token_hash == token_hash(token))
            )
        ).first()
        if found is None:
            return None
        row, user = found
        if row.revoked_at is not None:
            return None
        idle_end = (aware(row.last_seen_at) or now) + config.session_idle
        ended = now >= (aware(row.expires_at) or now) or now >= idle_end
        if ended or user.disabled_at is not None:
            row.revoked_at = now
            return None
        row.last_seen_at = now
        return SessionInfo(row.id, admin_of(user), row.csrf_token, tuple(row.flash or ()))


async def end_session(sessions: Sessions, token: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(AdminSession)
            .where(AdminSession.token_hash == token_hash(token), AdminSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


async def add_flash(sessions: Sessions, session_id: int, message: str) -> None:
    """A message for the next page this session sees."""
    await _edit_flash(sessions, session_id, lambda old: [*old, message][-5:])


async def take_flash(sessions: Sessions, session_id: int) -> None:
    """Forget the messages, once a page has shown them."""
    await _edit_flash(sessions, session_id, lambda old: [])


async def _edit_flash(
    sessions: Sessions, session_id: int, change: Callable[[list[str]], list[str]]
) -> None:
    async with sessions() as session, session.begin():
        row = await session.get(AdminSession, session_id)
        if row is not None:
            row.flash = change(list(row.flash or ())) or None


def cookie_header(name: str, value: str, *, path: str, secure: bool, expire: bool = False) -> str:
    """A Set-Cookie value: HttpOnly, SameSite=Strict, Secure over TLS; a browser-session
    cookie (the server ends the session, not the cookie's age)."""
    parts = [f"{name}={value}", f"Path={path}", "HttpOnly", "SameSite=Strict"]
    if secure:
        parts.append("Secure")
    if expire:
        parts.append("Max-Age=0")
    return "; ".join(parts)
