"""Partners, their keys, and policy versions, in the registry database (partners' trusted
documents are in ``policies.trusted_documents``).

Every change moves the policy epoch in the same transaction, so a gateway that polls the
epoch sees a revoked key or a newly published version at its next poll.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from policies.cedar import PartnerFacts
from policies.document import read_stored
from policies.errors import PolicyError
from policies.keys import NewKey, new_key
from policies.model import PolicyDocument
from policies.models import (
    PARTNER_KINDS,
    ApiKey,
    Partner,
    PolicyEpoch,
    PolicyPublication,
    PolicyVersion,
)

Sessions = async_sessionmaker[AsyncSession]

_CODE = re.compile(r"^[a-z][a-z0-9-]{1,63}$")
_OPERATOR = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class UnknownPartner(PolicyError):
    """No partner has this code."""


class UnknownKey(PolicyError):
    """No API key has this key id."""


class UnknownVersion(PolicyError):
    """No policy version has this number."""


class InvalidPartner(PolicyError):
    """Partner details that cannot be stored as given."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite gives back naive datetimes; everything stored is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


@dataclass(frozen=True)
class KeyRecord:
    """One API key, without its secret."""

    key_id: str
    partner: str
    label: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    key_hash: str

    def usable(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class PartnerRecord:
    """A partner and its keys."""

    code: str
    name: str
    kind: str
    contact: str | None
    operator: str | None
    xroad_client: str | None
    created_at: dt.datetime
    keys: tuple[KeyRecord, ...] = ()

    @property
    def facts(self) -> PartnerFacts:
        return PartnerFacts(self.code, self.kind, self.operator)


@dataclass(frozen=True)
class IssuedKey:
    """A key just issued: the only time the whole key is seen."""

    partner: str
    key: str
    key_id: str
    expires_at: dt.datetime | None


@dataclass(frozen=True)
class VersionRecord:
    """A policy version, and when it was last published (if ever)."""

    number: int
    digest: str
    created_at: dt.datetime
    created_by: str
    reason: str
    based_on: int | None
    published_at: dt.datetime | None


@dataclass(frozen=True)
class Published:
    """The version gateways enforce."""

    number: int
    document: PolicyDocument
    published_at: dt.datetime


async def bump_epoch(session: AsyncSession) -> None:
    """Move the policy epoch, in the transaction of the change that gateways must see."""
    await session.execute(
        update(PolicyEpoch).where(PolicyEpoch.id == 1).values(epoch=PolicyEpoch.epoch + 1)
    )


async def epoch(session: AsyncSession) -> int:
    """The policy epoch: it moves whenever a partner, a key or the publication changes."""
    found = await session.scalar(select(PolicyEpoch.epoch).where(PolicyEpoch.id == 1))
    return int(found or 0)


# -- partners and keys -------------------------------------------------------------------


def check_partner(
    code: str, kind: str, operator: str | None, xroad_client: str | None
) -> list[str]:
    """What is wrong with these partner details (empty when nothing is)."""
    problems = []
    if not _CODE.match(code):
        problems.append(
            f"partner code {code!r} must be 2 to 64 lower-case letters, digits or -, "
            "starting with a letter (e.g. ngo-cash)"
        )
    if kind not in PARTNER_KINDS:
        problems.append(f"kind {kind!r} is not one of {', '.join(PARTNER_KINDS)}")
    if operator is not None and not _OPERATOR.match(operator):
        problems.append(f"operator {operator!r} must be a short lower-case name such as nssf")
    if xroad_client is not None:
        parts = xroad_client.split("/")
        if len(parts) != 4 or not all(parts):
            problems.append(
                f"CamDX client {xroad_client!r} must be INSTANCE/CLASS/MEMBER/SUBSYSTEM, "
                "e.g. CAMBODIA/GOV/MOSVY/CASH"
            )
    return problems


async def create_partner(
    sessions: Sessions,
    code: str,
    name: str,
    kind: str,
    *,
    contact: str | None = None,
    operator: str | None = None,
    xroad_client: str | None = None,
) -> PartnerRecord:
    """Store a new partner (without keys: issue them with :func:`issue_key`)."""
    problems = check_partner(code, kind, operator, xroad_client)
    if not name.strip():
        problems.append("give the partner's name")
    if problems:
        raise InvalidPartner("; ".join(problems))
    async with sessions() as session, session.begin():
        row = Partner(
            code=code,
            name=name.strip(),
            kind=kind,
            contact=contact,
            operator=operator,
            xroad_client=xroad_client,
        )
        session.add(row)
        try:
            await session.flush()
        except IntegrityError:
            raise InvalidPartner(
                f"a partner with code {code!r}"
                + (f" or CamDX client {xroad_client!r}" if xroad_client else "")
                + " already exists"
            ) from None
        await bump_epoch(session)
    return _partner_record(row, [])


async def partner_row(session: AsyncSession, code: str) -> Partner:
    """The partner with this code, or :class:`UnknownPartner`."""
    row = await session.scalar(select(Partner).where(Partner.code == code))
    if row is None:
        raise UnknownPartner(f"no partner has code {code!r}; `tonle partners list` shows them")
    return row


async def issue_key(
    sessions: Sessions,
    partner: str,
    *,
    expires_at: dt.datetime | None = None,
    label: str | None = None,
) -> IssuedKey:
    """A new key for ``partner``; the whole key is in the result and nowhere else."""
    if expires_at is not None and _aware(expires_at) <= utcnow():  # type: ignore[operator]
        raise PolicyError("the key's expiry is in the past; give a future date")
    made: NewKey = new_key()
    async with sessions() as session, session.begin():
        row = await partner_row(session, partner)
        session.add(
            ApiKey(
                partner_id=row.id,
                key_id=made.key_id,
                key_hash=made.key_hash,
                label=label,
                expires_at=expires_at,
            )
        )
        await bump_epoch(session)
    return IssuedKey(partner, made.key, made.key_id, expires_at)


async def rotate_key(
    sessions: Sessions,
    partner: str,
    *,
    grace: dt.timedelta = dt.timedelta(days=7),
    expires_at: dt.datetime | None = None,
    label: str | None = None,
) -> IssuedKey:
    """A new key; the partner's other keys stop working after ``grace`` (or sooner)."""
    issued = await issue_key(sessions, partner, expires_at=expires_at, label=label)
    ends = utcnow() + grace
    async with sessions() as session, session.begin():
        row = await partner_row(session, partner)
        keys = await session.scalars(
            select(ApiKey).where(
                ApiKey.partner_id == row.id,
                ApiKey.key_id != issued.key_id,
                ApiKey.revoked_at.is_(None),
            )
        )
        for key in keys:
            current = _aware(key.expires_at)
            if current is None or current > ends:
                key.expires_at = ends
        await bump_epoch(session)
    return issued


async def revoke_key(sessions: Sessions, key_id: str) -> KeyRecord:
    """Stop a key at once."""
    async with sessions() as session, session.begin():
        key = await session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
        if key is None:
            raise UnknownKey(f"no API key has id {key_id!r}; `tonle partners list` shows them")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
        partner = await session.get(Partner, key.partner_id)
        await bump_epoch(session)
    assert partner is not None
    return _key_record(key, partner.code)


async def set_xroad_client(sessions: Sessions, code: str, xroad_client: str | None) -> None:
    """Name the CamDX client subsystem the partner calls from (None: it no longer does)."""
    problems = check_partner(code, "operator", None, xroad_client)
    if problems:
        raise InvalidPartner("; ".join(problems))
    async with sessions() as session, session.begin():
        row = await partner_row(session, code)
        row.xroad_client = xroad_client
        try:
            await session.flush()
        except IntegrityError:
            raise InvalidPartner(
                f"another partner already calls from CamDX client {xroad_client!r}"
            ) from None
        await bump_epoch(session)


async def list_partners(sessions: Sessions) -> list[PartnerRecord]:
    """Every partner with its keys, by code."""
    async with sessions() as session:
        partners = list(await session.scalars(select(Partner).order_by(Partner.code)))
        keys = list(await session.scalars(select(ApiKey).order_by(ApiKey.id)))
    by_partner: dict[int, list[ApiKey]] = {}
    for key in keys:
        by_partner.setdefault(key.partner_id, []).append(key)
    return [_partner_record(p, by_partner.get(p.id, [])) for p in partners]


def _key_record(key: ApiKey, partner: str) -> KeyRecord:
    created = _aware(key.created_at)
    assert created is not None
    return KeyRecord(
        key_id=key.key_id,
        partner=partner,
        label=key.label,
        created_at=created,
        expires_at=_aware(key.expires_at),
        revoked_at=_aware(key.revoked_at),
        key_hash=key.key_hash,
    )


def _partner_record(row: Partner, keys: Sequence[ApiKey]) -> PartnerRecord:
    created = _aware(row.created_at)
    assert created is not None
    return PartnerRecord(
        code=row.code,
        name=row.name,
        kind=row.kind,
        contact=row.contact,
        operator=row.operator,
        xroad_client=row.xroad_client,
        created_at=created,
        keys=tuple(_key_record(k, row.code) for k in keys),
    )


# -- policy versions ----------------------------------------------------------------------


async def add_version(
    sessions: Sessions,
    document: PolicyDocument,
    *,
    created_by: str,
    reason: str,
    source: str | None = None,
    based_on: int | None = None,
) -> int:
    """Store ``document`` as a new, immutable version; return its number."""
    if not reason.strip():
        raise PolicyError("give the reason for this policy change (it is kept with the version)")
    async with sessions() as session, session.begin():
        await _lock_versions(session)
        last = await session.scalar(select(func.max(PolicyVersion.number)))
        number = int(last or 0) + 1
        session.add(
            PolicyVersion(
                number=number,
                document=document.to_json(),
                digest=document.digest(),
                source=source,
                created_by=created_by,
                reason=reason.strip(),
                based_on=based_on,
            )
        )
    return number


async def _lock_versions(session: AsyncSession) -> None:
    # Numbers are max + 1: two admins adding at once must take turns.
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(0x706F6C)))  # "pol"
    else:
        await session.execute(
            update(PolicyEpoch).where(PolicyEpoch.id == 1).values(epoch=PolicyEpoch.epoch)
        )


async def publish(sessions: Sessions, number: int, *, by: str, reason: str) -> None:
    """Make version ``number`` the one gateways enforce."""
    if not reason.strip():
        raise PolicyError("give the reason for publishing (it is kept with the publication)")
    async with sessions() as session, session.begin():
        if await session.get(PolicyVersion, number) is None:
            raise UnknownVersion(
                f"there is no policy version {number}; `tonle policies list` shows them"
            )
        session.add(PolicyPublication(version=number, published_by=by, reason=reason.strip()))
        await bump_epoch(session)


async def rollback(sessions: Sessions, number: int, *, by: str, reason: str) -> int:
    """Publish version ``number``'s document again, as a new version; return the new number."""
    old = await version_document(sessions, number)
    new = await add_version(
        sessions,
        old.document,
        created_by=by,
        reason=f"rollback to version {number}: {reason.strip()}",
        source=old.source,
        based_on=number,
    )
    await publish(sessions, new, by=by, reason=f"rollback to version {number}")
    return new


@dataclass(frozen=True)
class StoredVersion:
    number: int
    document: PolicyDocument
    source: str | None


async def version_document(sessions: Sessions, number: int) -> StoredVersion:
    async with sessions() as session:
        row = await session.get(PolicyVersion, number)
    if row is None:
        raise UnknownVersion(
            f"there is no policy version {number}; `tonle policies list` shows them"
        )
    return StoredVersion(number, read_stored(row.document), row.source)


async def latest_version(sessions: Sessions) -> int | None:
    async with sessions() as session:
        found = await session.scalar(select(func.max(PolicyVersion.number)))
    return int(found) if found is not None else None


async def published(sessions: Sessions) -> Published | None:
    """The published version, or None when nothing has been published yet."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(PolicyPublication.version, PolicyPublication.published_at)
                .order_by(PolicyPublication.id.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        version = await session.get(PolicyVersion, row.version)
    assert version is not None
    at = _aware(row.published_at)
    assert at is not None
    return Published(version.number, read_stored(version.document), at)


async def list_versions(sessions: Sessions) -> list[VersionRecord]:
    """Every version, newest first, with when each was last published."""
    async with sessions() as session:
        versions = list(
            await session.scalars(select(PolicyVersion).order_by(PolicyVersion.number.desc()))
        )
        publications = (
            await session.execute(
                select(
                    PolicyPublication.version, func.max(PolicyPublication.published_at)
                ).group_by(PolicyPublication.version)
            )
        ).all()
    last: dict[int, Any] = {v: at for v, at in publications}
    out = []
    for row in versions:
        created = _aware(row.created_at)
        assert created is not None
        out.append(
            VersionRecord(
                number=row.number,
                digest=row.digest,
                created_at=created,
                created_by=row.created_by,
                reason=row.reason,
                based_on=row.based_on,
                published_at=_aware(last.get(row.number)),
            )
        )
    return out
