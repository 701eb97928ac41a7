"""Admin accounts: argon2 password hashes, roles, sign-in with lock-out.

A sign-in that fails says the same whatever the reason (unknown account, wrong password,
locked, disabled) and takes the same time (an unknown account is checked against a dummy
hash), so the form tells an outsider nothing about which accounts exist.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from policies.console.config import ConsoleConfig
from policies.console.models import ROLES, AdminSession, AdminUser
from policies.errors import PolicyError
from policies.repository import Sessions, utcnow

_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12
_HASHER = PasswordHasher()
# Verified against when the account does not exist, so that takes as long as a real check.
_DUMMY_HASH = _HASHER.hash("no account has this password")


class AccountError(PolicyError):
    """An account that cannot be made or changed as asked."""


@dataclass(frozen=True)
class Admin:
    """A signed-in policy admin, as endpoints see it (``request.state.admin``)."""

    username: str
    display_name: str
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        """Whether the admin holds any of ``roles``."""
        return bool(self.roles.intersection(roles))


@dataclass(frozen=True)
class Account:
    """An account as ``tonle admin list-users`` shows it (never its hash)."""

    username: str
    display_name: str
    roles: tuple[str, ...]
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    locked_until: dt.datetime | None
    failed_count: int


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the admin (None when refused) and what happened."""

    admin: Admin | None
    user_id: int | None
    # "ok", "unknown", "wrong_password", "locked", "disabled"
    outcome: str
    # True when this failure locked the account
    locked_now: bool = False


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_roles(roles: Iterable[str]) -> tuple[str, ...]:
    given = tuple(dict.fromkeys(roles))
    unknown = [r for r in given if r not in ROLES]
    if unknown or not given:
        raise AccountError(
            f"roles are {', '.join(ROLES)}; got {', '.join(unknown) or 'none'} "
            "(give --role once per role)"
        )
    return given


def check_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password has at least {MIN_PASSWORD} characters")
    if username.lower() in password.lower():
        raise AccountError("a password must not contain the username")


async def create_user(
    sessions: Sessions,
    username: str,
    password: str,
    roles: Iterable[str],
    *,
    display_name: str | None = None,
) -> Account:
    """A new account; the password is kept only as its argon2 hash."""
    if not _USERNAME.match(username):
        raise AccountError(
            f"username {username!r} must be 2 to 64 lower-case letters, digits, '.', '_' or "
            "'-', starting with a letter"
        )
    chosen = check_roles(roles)
    check_password(password, username)
    row = AdminUser(
        username=username,
        display_name=(display_name or username).strip()[:200] or username,
        password_hash=hash_password(password),
        roles=list(chosen),
        failed_count=0,
    )
    async with sessions() as session, session.begin():
        session.add(row)
        try:
            await session.flush()
        except IntegrityError:
            raise AccountError(f"an account named {username!r} already exists") from None
    return _account(row)


async def set_password(sessions: Sessions, username: str, password: str) -> None:
    """Replace the password; every session of the account ends (it may have been stolen)."""
    check_password(password, username)
    async with sessions() as session, session.begin():
        row = await _user(session, username)
        row.password_hash = hash_password(password)
        row.failed_count, row.failed_since, row.locked_until = 0, None, None
        await _end_sessions(session, row.id)


async def list_users(sessions: Sessions) -> list[Account]:
    async with sessions() as session:
        rows = await session.scalars(select(AdminUser).order_by(AdminUser.username))
        return [_account(r) for r in rows]


async def unlock(sessions: Sessions, username: str) -> None:
    """Lift a lock-out and forget the failed sign-ins."""
    async with sessions() as session, session.begin():
        row = await _user(session, username)
        row.failed_count, row.failed_since, row.locked_until = 0, None, None


async def disable(sessions: Sessions, username: str) -> None:
    """Stop an account at once: it cannot sign in and its open sessions end."""
    async with sessions() as session, session.begin():
        row = await _user(session, username)
        if row.disabled_at is None:
            row.disabled_at = utcnow()
        await _end_sessions(session, row.id)


async def enable(sessions: Sessions, username: str) -> None:
    async with sessions() as session, session.begin():
        row = await _user(session, username)
        row.disabled_at = None


async def sign_in(
    sessions: Sessions, config: ConsoleConfig, username: str, password: str
) -> SignIn:
    """Check a username and password, counting failures towards a lock-out."""
    now = utcnow()
    async with sessions() as session, session.begin():
        row = await session.scalar(
            select(AdminUser).where(AdminUser.username == username).with_for_update()
        )
        if row is None:
            _verify(_DUMMY_HASH, password)
            return SignIn(None, None, "unknown")
        matches = _verify(row.password_hash, password)
        if row.disabled_at is not None:
            return SignIn(None, row.id, "disabled")
        locked_until = aware(row.locked_until)
        if locked_until is not None and locked_until > now:
            return SignIn(None, row.id, "locked")
        if matches:
            row.failed_count, row.failed_since, row.locked_until = 0, None, None
            if _HASHER.check_needs_rehash(row.password_hash):
                row.password_hash = hash_password(password)
            return SignIn(admin_of(row), row.id, "ok")
        since = aware(row.failed_since)
        if since is None or now - since > config.lockout_window:
            row.failed_since, row.failed_count = now, 0
        row.failed_count += 1
        if row.failed_count >= config.lockout_failures:
            row.locked_until = now + config.lockout_duration
            row.failed_count, row.failed_since = 0, None
            return SignIn(None, row.id, "wrong_password", locked_now=True)
        return SignIn(None, row.id, "wrong_password")


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def _user(session: AsyncSession, username: str) -> AdminUser:
    row = await session.scalar(select(AdminUser).where(AdminUser.username == username))
    if row is None:
        raise AccountError(f"no account is named {username!r}; tonle admin list-users shows them")
    return row


async def _end_sessions(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(AdminSession)
        .where(AdminSession.user_id == user_id, AdminSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives back naive datetimes; everything stored is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def admin_of(row: AdminUser) -> Admin:
    """The :class:`Admin` an account row signs in as."""
    return Admin(row.username, row.display_name, frozenset(row.roles))


def _account(row: AdminUser) -> Account:
    return Account(
        username=row.username,
        display_name=row.display_name,
        roles=tuple(row.roles),
        created_at=aware(row.created_at) or utcnow(),
        disabled_at=aware(row.disabled_at),
        locked_until=aware(row.locked_until),
        failed_count=row.failed_count or 0,
    )
