"""Gateways enforcing a small policy of the test's own, over a registry database of its own.

For what the gateway decides before any subgraph is asked (rate budgets, trusted documents,
persisted queries): the supergraph is the classic one and its subgraphs are never reached,
so ``{ __typename }`` is the query. Several gateways on one database and one Redis stand for
several gateway processes behind a load balancer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from starlette.applications import Starlette

from gateway import Gateway, create_app
from identity_store import create_engine, migrate, session_factory
from policies.document import parse_policy
from policies.repository import Sessions, add_version, create_partner, issue_key, publish
from policies.service import PolicySettings, policy_enforcement
from tests.gateway.classic import SUBGRAPHS, supergraph_sdl
from tests.shared_redis import SharedRedis

POLICY = """\
format: tonle-policy/1
purposes:
  eligibility_check: {description: Checking eligibility, legal_basis: MoU}
  statistics: {description: Counting, legal_basis: Statistics law}
agreements:
  - partner: cash
    purpose: eligibility_check
    fields: {Query: [me], User: [id]}
    limits: {requests_per_minute: %(budget)d, requests_per_minute_per_end_user: %(end_user)d}
  - partner: cash
    purpose: statistics
    fields: {Query: [me], User: [id]}
%(statistics)s
  - partner: other
    purpose: eligibility_check
    fields: {Query: [me], User: [id]}
"""


def policy(budget: int = 600, end_user: int = 60, statistics: str = "") -> str:
    """The test policy: ``cash`` with two purposes, ``other`` with one."""
    return POLICY % {"budget": budget, "end_user": end_user, "statistics": statistics}


@dataclass
class PolicyDatabase:
    url: str
    keys: dict[str, str]
    sessions: Sessions


async def policy_database(tmp_path: Path, text: str) -> PolicyDatabase:
    """A migrated SQLite registry with partners ``cash`` and ``other`` and ``text`` published."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    await migrate(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    keys = {}
    for code in ("cash", "other"):
        await create_partner(sessions, code, code.title(), "development_partner")
        keys[code] = (await issue_key(sessions, code)).key
    number = await add_version(sessions, parse_policy(text), created_by="test", reason="test")
    await publish(sessions, number, by="test", reason="test")
    return PolicyDatabase(url, keys, sessions)


def gateway_app(
    database: PolicyDatabase, *, redis: SharedRedis | None = None, redis_url: str | None = None
) -> Starlette:
    """One gateway process's app: its own policy store, limiter and persisted queries."""
    gateway = Gateway.from_sdl(
        supergraph_sdl({name: f"http://127.0.0.1:9/{name}" for name in SUBGRAPHS})
    )
    access, lifespan = policy_enforcement(
        gateway.api_schema,
        PolicySettings(
            database_url=database.url,
            poll_s=0.1,
            access_log=False,
            redis_url=redis_url or (redis.url if redis else None),
            redis_prefix=redis.prefix if redis else "tonle",
        ),
    )
    return create_app(gateway, access=access, background=lifespan)


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: Mapping[str, str]

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.body.get("errors", [])]


async def ask(
    session: aiohttp.ClientSession,
    url: str,
    key: str,
    body: Mapping[str, Any] | None = None,
    *,
    purpose: str = "eligibility_check",
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """POST ``body`` (``{ __typename }`` by default) to the gateway at ``url`` as a partner."""
    sent = {"Authorization": f"Bearer {key}", "X-Purpose": purpose, **(headers or {})}
    async with session.post(
        url + "/graphql", json=dict(body or {"query": "{ __typename }"}), headers=sent
    ) as response:
        return Answer(response.status, await response.json(), dict(response.headers))
