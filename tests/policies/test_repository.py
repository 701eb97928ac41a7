"""Partners, keys and policy versions in the registry database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from identity_store import create_engine, migrate, session_factory
from policies.errors import PolicyError
from policies.keys import hash_key, key_id_of, same_key
from policies.repository import (
    InvalidPartner,
    Sessions,
    UnknownKey,
    UnknownPartner,
    UnknownVersion,
    add_version,
    create_partner,
    epoch,
    issue_key,
    list_partners,
    list_versions,
    publish,
    published,
    revoke_key,
    rollback,
    rotate_key,
    set_xroad_client,
    version_document,
)
from tests.policies.schemas import demo_policy


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    await migrate(database_url)
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def current_epoch(sessions: Sessions) -> int:
    async with sessions() as session:
        return await epoch(session)


async def test_a_key_is_shown_once_and_stored_only_as_its_hash(sessions: Sessions) -> None:
    await create_partner(sessions, "ngo-cash", "Cash for Families", "development_partner")
    issued = await issue_key(sessions, "ngo-cash", label="pilot")
    assert key_id_of(issued.key) == issued.key_id
    (partner,) = await list_partners(sessions)
    (key,) = partner.keys
    assert key.key_hash == hash_key(issued.key) and issued.key not in key.key_hash
    assert same_key(issued.key, key.key_hash)
    assert not same_key(issued.key[:-1] + "x", key.key_hash)
    assert key.usable(dt.datetime.now(dt.UTC))


async def test_partner_details_are_checked(sessions: Sessions) -> None:
    with pytest.raises(InvalidPartner, match="kind 'bank' is not one of operator"):
        await create_partner(sessions, "bank", "A bank", "bank")
    with pytest.raises(InvalidPartner, match="must be INSTANCE/CLASS/MEMBER/SUBSYSTEM"):
        await create_partner(sessions, "nssf", "NSSF", "operator", xroad_client="NSSF")
    await create_partner(sessions, "nssf", "NSSF", "operator", operator="nssf")
    with pytest.raises(InvalidPartner, match=r"a partner with code 'nssf' .*already exists"):
        await create_partner(sessions, "nssf", "NSSF again", "operator")
    with pytest.raises(UnknownPartner):
        await issue_key(sessions, "nobody")


async def test_rotation_gives_the_old_keys_a_grace_period_and_revocation_is_at_once(
    sessions: Sessions,
) -> None:
    await create_partner(sessions, "nssf", "NSSF", "operator", operator="nssf")
    old = await issue_key(sessions, "nssf")
    before = await current_epoch(sessions)
    new = await rotate_key(sessions, "nssf", grace=dt.timedelta(days=2))
    keys = {k.key_id: k for k in (await list_partners(sessions))[0].keys}
    assert keys[new.key_id].expires_at is None
    ends = keys[old.key_id].expires_at
    assert ends is not None
    assert dt.timedelta(days=1.9) < ends - dt.datetime.now(dt.UTC) <= dt.timedelta(days=2)
    await revoke_key(sessions, old.key_id)
    keys = {k.key_id: k for k in (await list_partners(sessions))[0].keys}
    assert not keys[old.key_id].usable(dt.datetime.now(dt.UTC))
    assert await current_epoch(sessions) > before
    with pytest.raises(UnknownKey):
        await revoke_key(sessions, "000000000000")


async def test_versions_are_numbered_published_and_rolled_back_as_new_versions(
    sessions: Sessions,
) -> None:
    document = demo_policy()
    assert await published(sessions) is None
    first = await add_version(sessions, document, created_by="ana", reason="first", source="x: 1")
    before = await current_epoch(sessions)
    await publish(sessions, first, by="ana", reason="go")
    assert await current_epoch(sessions) > before
    changed = type(document)(**{**vars(document), "guardrails": ""})
    second = await add_version(sessions, changed, created_by="ben", reason="no guardrails")
    await publish(sessions, second, by="ben", reason="go")
    current = await published(sessions)
    assert current is not None and current.number == second == 2
    third = await rollback(sessions, first, by="cy", reason="v2 dropped the guardrails")
    current = await published(sessions)
    assert current is not None and (current.number, third) == (3, 3)
    assert current.document.digest() == document.digest()
    assert (await version_document(sessions, 3)).source == "x: 1"
    listed = await list_versions(sessions)
    assert [(v.number, v.based_on) for v in listed] == [(3, 1), (2, None), (1, None)]
    assert listed[0].reason == "rollback to version 1: v2 dropped the guardrails"
    with pytest.raises(UnknownVersion):
        await publish(sessions, 9, by="ana", reason="no such version")
    with pytest.raises(PolicyError, match="give the reason"):
        await add_version(sessions, document, created_by="ana", reason=" ")


async def test_a_partners_camdx_client_changes_and_gateways_are_told(sessions: Sessions) -> None:
    await create_partner(sessions, "cash", "Cash", "development_partner")
    await create_partner(sessions, "nssf", "NSSF", "operator", xroad_client="CAMBODIA/GOV/NSSF/M")
    before = await current_epoch(sessions)
    await set_xroad_client(sessions, "cash", "CAMBODIA/GOV/MOSVY/CASH")
    assert await current_epoch(sessions) > before
    partners = {p.code: p for p in await list_partners(sessions)}
    assert partners["cash"].xroad_client == "CAMBODIA/GOV/MOSVY/CASH"
    with pytest.raises(InvalidPartner, match="already calls from CamDX client"):
        await set_xroad_client(sessions, "cash", "CAMBODIA/GOV/NSSF/M")
    with pytest.raises(InvalidPartner, match="INSTANCE/CLASS/MEMBER/SUBSYSTEM"):
        await set_xroad_client(sessions, "cash", "NSSF")
    with pytest.raises(UnknownPartner):
        await set_xroad_client(sessions, "nobody", None)
    await set_xroad_client(sessions, "cash", None)
    assert {p.code: p for p in await list_partners(sessions)}["cash"].xroad_client is None
