"""The demo's partners and policy on a registry it did not set up itself."""

from __future__ import annotations

import hashlib
import json

import pytest

from identity_store import create_engine, migrate, session_factory
from policies.models import PolicyPublication, PolicyVersion
from policies.repository import published
from tonle.demo_partners import demo_policy, set_up_partners


async def test_a_published_policy_this_tonle_cannot_read_is_replaced_by_the_demos(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A registry from an older Tonle: its published version stores `subjects` as a mapping,
    # which this one cannot read. The demo said so with a traceback and stopped.
    await migrate(database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        old = {"format": "tonle-policy/1", "purposes": {}, "agreements": [],
               "subjects": {"Person": "spid"}}  # fmt: skip
        digest = hashlib.sha256(json.dumps(old).encode()).hexdigest()
        async with sessions() as session, session.begin():
            session.add(PolicyVersion(number=1, document=old, digest=digest, source=None,
                                      created_by="older tonle", reason="then"))  # fmt: skip
            await session.flush()
            session.add(PolicyPublication(version=1, published_by="older tonle", reason="then"))
        partners = await set_up_partners(sessions)
        assert "cannot read" in capsys.readouterr().out
        current = await published(sessions)
        assert current is not None and current.number == 2
        assert current.document.digest() == demo_policy()[0].digest()
        assert set(partners) >= {"registry", "nssf", "ngo-cash"}
        # A second start finds the demo policy published and publishes nothing new.
        await set_up_partners(sessions)
        again = await published(sessions)
        assert again is not None and again.number == 2
    finally:
        await engine.dispose()
