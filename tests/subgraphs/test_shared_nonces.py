"""Replay protection shared through Redis: a signed request is answered once by every replica
of a subgraph, not once per process; with Redis away, each process still refuses its own."""

from __future__ import annotations

import time

import aiohttp
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from policies import SIGNATURE_HEADER, sign
from policies.nonces import MemoryNonceStore, NonceStore
from policies.redis_nonces import RedisNonceStore
from subgraphs.server import RequireGatewaySignature, build_subgraph_app
from tests.servers import serve
from tests.shared_redis import SharedRedis
from tests.subgraphs.test_server import SCHEMA, signed_for

SECRET = "replica-secret"
BODY = b'{"query": "{ hello }"}'


def replica(nonces: NonceStore) -> RequireGatewaySignature:
    async def hello(_: Request) -> Response:
        return JSONResponse({"data": {"hello": "world"}})

    app = Starlette(routes=[Route("/graphql", hello, methods=["POST"])])
    return RequireGatewaySignature(app, SECRET, audience="hello", nonces=nonces)


async def post(session: aiohttp.ClientSession, url: str, signature: str) -> int:
    headers = {SIGNATURE_HEADER: signature, "Content-Type": "application/json"}
    async with session.post(url + "/graphql", data=BODY, headers=headers) as response:
        return response.status


def signed() -> str:
    return sign(SECRET, method="POST", audience="hello", target="/graphql", body=BODY)


async def test_a_request_replayed_to_another_replica_is_refused_through_redis(
    shared_redis: SharedRedis,
) -> None:
    stores = [RedisNonceStore(shared_redis.client(), prefix=shared_redis.prefix) for _ in range(2)]
    try:
        async with (
            serve(replica(stores[0])) as first,
            serve(replica(stores[1])) as second,
            aiohttp.ClientSession() as session,
        ):
            signature = signed()
            assert await post(session, first, signature) == 200
            assert await post(session, second, signature) == 401  # the other replica knows
            assert await post(session, first, signature) == 401
            assert await post(session, second, signed()) == 200  # a new request still passes
    finally:
        for store in stores:
            await store.aclose()
    assert any(":nonce:" in key for key in await shared_redis.keys())


async def test_without_a_shared_store_each_replica_remembers_only_its_own() -> None:
    # Why the shared store exists: per-process memory lets a capture through once per replica.
    async with (
        serve(replica(MemoryNonceStore())) as first,
        serve(replica(MemoryNonceStore())) as second,
        aiohttp.ClientSession() as session,
    ):
        signature = signed()
        assert await post(session, first, signature) == 200
        assert await post(session, second, signature) == 200
        assert await post(session, first, signature) == 401


async def test_with_redis_away_a_process_still_refuses_replays_to_itself() -> None:
    store = RedisNonceStore.from_url("redis://127.0.0.1:1/0", prefix="tonle-test-away")
    try:
        expires = int(time.time()) + 60
        assert await store.first_use("n-1", expires) is True
        assert await store.first_use("n-1", expires) is False
        assert await store.first_use("n-2", expires) is True
    finally:
        await store.aclose()


async def test_a_nonce_is_forgotten_in_redis_when_its_signature_is_stale(
    shared_redis: SharedRedis,
) -> None:
    store = RedisNonceStore(shared_redis.client(), prefix=shared_redis.prefix)
    try:
        assert await store.first_use("soon", int(time.time()) + 100)
        client = shared_redis.client()
        ttl = await client.ttl(f"{shared_redis.prefix}:nonce:soon")
        await client.aclose()
        assert 90 < ttl <= 100
    finally:
        await store.aclose()


async def test_subgraphs_share_their_nonces_when_tonle_redis_url_is_set(
    shared_redis: SharedRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TONLE_REDIS_URL", shared_redis.url)
    monkeypatch.setenv("TONLE_REDIS_PREFIX", shared_redis.prefix)
    replicas = [build_subgraph_app(SCHEMA, name="hello", gateway_secret="shared") for _ in "ab"]
    async with (
        serve(replicas[0]) as first,
        serve(replicas[1]) as second,
        aiohttp.ClientSession() as session,
    ):
        headers = signed_for("hello")
        async with session.post(first + "/graphql", data=BODY, headers=headers) as r:
            assert r.status == 200
        async with session.post(second + "/graphql", data=BODY, headers=headers) as r:
            assert r.status == 401
    assert any(
        key.startswith(f"{shared_redis.prefix}:subgraph:hello:")
        for key in await shared_redis.keys()
    )
