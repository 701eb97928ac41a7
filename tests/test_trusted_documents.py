"""Trusted documents and persisted queries through a gateway enforcing policies: a partner's
registered operations run by hash; an agreement that requires them runs nothing else
(403 PERSISTED_QUERY_NOT_ALLOWED); registrations reach a running gateway within seconds;
documents remembered for one partner are unknown to another."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from policies.trusted_documents import add_document, remove_document
from tests.policy_gateways import Answer, PolicyDatabase, ask, gateway_app, policy, policy_database
from tests.servers import serve

REGISTERED = "query Registered { __typename }\n"
OTHER = "query Other { __typename }"
STATISTICS = "statistics"  # cash's purpose whose agreement requires trusted documents


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def by_hash(document: str) -> dict[str, Any]:
    return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(document)}}}


def with_hash(document: str) -> dict[str, Any]:
    return {"query": document, **by_hash(document)}


@pytest.fixture
async def database(tmp_path: Path) -> PolicyDatabase:
    database = await policy_database(tmp_path, policy(statistics="    trusted_documents: required"))
    await add_document(database.sessions, "cash", REGISTERED)
    return database


@pytest.fixture
async def gateway(database: PolicyDatabase) -> AsyncIterator[str]:
    async with serve(gateway_app(database)) as url:
        yield url


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_a_registered_document_runs_by_hash_alone(
    database: PolicyDatabase, gateway: str, session: aiohttp.ClientSession
) -> None:
    key = database.keys["cash"]
    for purpose in (STATISTICS, "eligibility_check"):
        reply = await ask(session, gateway, key, by_hash(REGISTERED), purpose=purpose)
        assert (reply.status, reply.body) == (200, {"data": {"__typename": "Query"}})
        reply = await ask(session, gateway, key, {"query": REGISTERED}, purpose=purpose)
        assert reply.status == 200


async def test_an_agreement_requiring_trusted_documents_runs_nothing_else(
    database: PolicyDatabase, gateway: str, session: aiohttp.ClientSession
) -> None:
    key = database.keys["cash"]
    for body in ({"query": OTHER}, with_hash(OTHER), by_hash(OTHER), {"query": REGISTERED + " "}):
        reply = await ask(session, gateway, key, body, purpose=STATISTICS)
        assert (reply.status, reply.codes) == (403, ["PERSISTED_QUERY_NOT_ALLOWED"]), body
        assert "data" not in reply.body
        error = reply.body["errors"][0]
        assert "registered" in error["message"]
        assert error["extensions"]["sha256"] == sha(body.get("query") or OTHER)
    # The same partner under an agreement that does not require them runs anything.
    reply = await ask(session, gateway, key, {"query": OTHER}, purpose="eligibility_check")
    assert (reply.status, reply.body) == (200, {"data": {"__typename": "Query"}})


async def test_a_registration_reaches_a_running_gateway_and_so_does_a_removal(
    database: PolicyDatabase, gateway: str, session: aiohttp.ClientSession
) -> None:
    key = database.keys["cash"]
    refused = await ask(session, gateway, key, by_hash(OTHER), purpose=STATISTICS)
    assert refused.status == 403
    await add_document(database.sessions, "cash", OTHER)
    reply = await _until(
        lambda: ask(session, gateway, key, by_hash(OTHER), purpose=STATISTICS), 200
    )
    assert reply.body == {"data": {"__typename": "Query"}}
    await remove_document(database.sessions, "cash", sha(OTHER))
    await _until(lambda: ask(session, gateway, key, {"query": OTHER}, purpose=STATISTICS), 403)


async def test_another_partner_cannot_run_a_partner_s_documents_by_hash(
    database: PolicyDatabase, gateway: str, session: aiohttp.ClientSession
) -> None:
    other = database.keys["other"]
    reply = await ask(session, gateway, other, by_hash(REGISTERED))
    assert (reply.status, reply.codes) == (200, ["PERSISTED_QUERY_NOT_FOUND"])
    # Nor one that cash only sent with its hash (an automatic persisted query): documents
    # are remembered per view, so a hash cannot tell who asked about what.
    document = 'query Person { __typename, __type(name: "User") { name } }'
    sent = await ask(session, gateway, database.keys["cash"], with_hash(document))
    assert sent.status == 200
    mine = await ask(session, gateway, database.keys["cash"], by_hash(document))
    assert mine.body == sent.body
    theirs = await ask(session, gateway, other, by_hash(document))
    assert theirs.codes == ["PERSISTED_QUERY_NOT_FOUND"]


async def _until(send: Any, status: int, within_s: float = 5.0) -> Answer:
    deadline = time.monotonic() + within_s
    while True:
        reply: Answer = await send()
        if reply.status == status:
            return reply
        if time.monotonic() > deadline:
            raise AssertionError(f"still {reply.status} after {within_s} s: {reply.body}")
        await asyncio.sleep(0.05)
