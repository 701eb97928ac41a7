"""The benchmark's partner: a restricted view of the classic schema, masks and the access log.

The partner sees every field the benchmark query asks for (so both runs do the same work)
but not ``Query.me``; ``User.username`` is masked to its initial, ``Product.name`` to its
last four characters and ``Review.body`` to its initial. Every request is written to the
access log in a SQLite file, with checkpoints signed as in production.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

POLICY = """\
format: tonle-policy/1
purposes:
  benchmark: {description: Measuring the gateway, legal_basis: none}
agreements:
  - partner: bench
    purpose: benchmark
    fields:
      Query: [users, topProducts]
      User: {id: visible, name: visible, username: initial, reviews: visible}
      Review: {id: visible, body: initial, author: visible, product: visible}
      Product: {"*": visible, name: last4}
    # The classic query nests lists without page sizes: estimated at 142,140, over the
    # default max_cost; the benchmark measures throughput, not the cost limit.
    limits: {requests_per_minute: 100000000, max_cost: 1000000}
"""
# (type, field) -> mask, as the policy says; the expected answer is masked the same way.
MASKED = {
    ("User", "username"): "initial",
    ("Product", "name"): "last4",
    ("Review", "body"): "initial",
}
# The classic schema's object fields, to know each value's type while masking the answer.
CHILDREN = {
    ("Query", "users"): "User",
    ("Query", "topProducts"): "Product",
    ("User", "reviews"): "Review",
    ("Review", "author"): "User",
    ("Review", "product"): "Product",
    ("Product", "reviews"): "Review",
}


@dataclass(frozen=True)
class PolicySetup:
    database_url: str
    api_key: str
    env: dict[str, str]


async def _prepare(work: Path) -> PolicySetup:
    from identity_store import create_engine, migrate, session_factory
    from policies.audit import generate_key_pair
    from policies.document import parse_policy
    from policies.repository import add_version, create_partner, issue_key, publish

    database = work / "policy.db"
    database.unlink(missing_ok=True)
    for name in ("policy.db-wal", "policy.db-shm"):
        (work / name).unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{database}"
    await migrate(url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        await create_partner(sessions, "bench", "The benchmark", "analyst")
        issued = await issue_key(sessions, "bench")
        number = await add_version(
            sessions, parse_policy(POLICY), created_by="bench", reason="benchmark"
        )
        await publish(sessions, number, by="bench", reason="benchmark")
    finally:
        await engine.dispose()
    keys_dir = work / "audit-keys"
    if not (keys_dir / "access-log-signing-key.pem").exists():
        generate_key_pair(keys_dir)
    env = {
        "TONLE_PSEUDONYM_KEY": secrets.token_hex(32),
        "TONLE_AUDIT_SIGNING_KEY": str(keys_dir / "access-log-signing-key.pem"),
    }
    return PolicySetup(url, issued.key, env)


def prepare(work: Path) -> PolicySetup:
    """A fresh policy database for one benchmark run."""
    return asyncio.run(_prepare(work))


def masked(expected: dict[str, Any]) -> dict[str, Any]:
    """The expected answer as the benchmark's partner must see it."""
    from graphql import GraphQLString

    from policies.masks import MASKS

    def mask_of(type_name: str, field: str) -> Any:
        mask = MASKED.get((type_name, field))
        if mask is None:
            return None
        return MASKS[mask].function(GraphQLString, partner="bench", pseudonym_key=None)

    def walk(value: Any, type_name: str) -> Any:
        if isinstance(value, list):
            return [walk(item, type_name) for item in value]
        if not isinstance(value, dict):
            return value
        out = {}
        for key, item in value.items():
            child = CHILDREN.get((type_name, key))
            mask = mask_of(type_name, key)
            out[key] = walk(item, child) if child else (mask(item) if mask else item)
        return out

    return {"data": walk(expected["data"], "Query")}
