"""A migrated registry database, a signing key and access entries for the access-log tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store import create_engine, migrate, session_factory
from policies.audit import AccessEntry

Sessions = async_sessionmaker[AsyncSession]

T0 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    await migrate(database_url)
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def spid(n: int) -> str:
    """A distinct 12-digit subject ID per ``n`` (the log does not check Verhoeff digits)."""
    return f"{n:012d}"


def entry(
    n: int = 0,
    *,
    spids: tuple[str, ...] | None = None,
    households: tuple[str, ...] = (),
    partner: str = "nssf",
    purpose: str = "eligibility_check",
    at: dt.datetime | None = None,
    outcome: str = "ok",
) -> AccessEntry:
    """The ``n``-th request of a test: by default it returned one person of its own."""
    return AccessEntry(
        at=at or dt.datetime.now(dt.UTC),
        partner=partner,
        purpose=purpose,
        end_user=f"clerk-{n % 3}",
        operation_name="Eligibility",
        document_hash=f"{n:064x}",
        policy_version=3,
        fields=("Person.spid", "Person.birthDate"),
        spids=(spid(1000 + n),) if spids is None else spids,
        household_ids=households,
        outcome=outcome,  # type: ignore[arg-type]
    )
