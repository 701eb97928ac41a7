"""The gateway's own database use is bounded like the registry's."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from identity_store import StatementTimeout, migrate
from policies.service import PolicySettings, policy_enforcement
from tests.identity_store.test_db import heavy
from tests.policies.schemas import tonle_gateway


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
