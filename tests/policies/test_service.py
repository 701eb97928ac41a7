"""The gateway's own database use is bounded like the registry's."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from identity_store import StatementTimeout, migrate
from policies.delegation import Delegation, DelegationError
from policies.service import PolicySettings, policy_enforcement
from tests.identity_store.test_db import heavy
from tests.policies.schemas import tonle_gateway
from tests.shared_redis import SharedRedis


async def test_a_statement_of_the_gateway_stops_at_the_statement_timeout(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TONLE_DB_STATEMENT_TIMEOUT_S", "0.3")
    await migrate(database_url)
    access, _ = policy_enforcement(
        tonle_gateway().api_schema,
        PolicySettings(database_url=database_url, pseudonym_key=b"k" * 32, access_log=False),
    )
    sessions = access.store.sessions
    engine = sessions.kw["bind"]
    try:
        with pytest.raises(StatementTimeout):
            async with sessions() as session:
                await session.execute(text(heavy(engine, "gateway-timeout")))
        async with sessions() as session:
            assert (await session.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_with_redis_a_delegations_use_is_spent_for_every_gateway(
    tmp_path: Path, shared_redis: SharedRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two gateways sharing Redis: a delegated use accepted by one is refused by the other.
    monkeypatch.setenv("TONLE_GATEWAY_SECRET", "delegation-secret")
    database = f"sqlite+aiosqlite:///{tmp_path}/registry.db"
    await migrate(database)
    settings = PolicySettings(
        database_url=database,
        pseudonym_key=b"k" * 32,
        access_log=False,
        redis_url=shared_redis.url,
        redis_prefix=shared_redis.prefix,
    )
    gateways = [policy_enforcement(tonle_gateway().api_schema, settings)[0] for _ in range(2)]
    one, two = (g.delegation for g in gateways)
    assert one is not None and two is not None
    token = one.issue("nspc", "statistics", None)
    header = Delegation("nspc", "statistics", None, token).headers()["Authorization"]
    use = header.split(" ", 1)[1]
    try:
        assert (await one.accept(use, "statistics", None)).partner == "nspc"
        with pytest.raises(DelegationError):
            await two.accept(use, "statistics", None)
    finally:
        for delegation in (one, two):
            await delegation.nonces.aclose()  # type: ignore[attr-defined]
        for gateway in gateways:
            await gateway.store.sessions.kw["bind"].dispose()
