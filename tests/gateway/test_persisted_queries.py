"""Automatic persisted queries (Apollo's APQ) over real HTTP: a hash alone is unknown until
the document has been sent with it; then the hash alone runs it, by POST or GET, on every
gateway sharing a Redis; a wrong hash, a malformed extension or a document that does not
validate is never remembered; memory stays bounded."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from gateway import Gateway, create_app
from gateway.persisted import MemoryPersistedQueries, RedisPersistedQueries
from tests.gateway.classic import SUBGRAPHS, supergraph_sdl
from tests.gateway.conftest import Stack, start_stack
from tests.servers import free_port, serve
from tests.shared_redis import SharedRedis

QUERY = "query Top { topProducts { name price } }"
SHA = hashlib.sha256(QUERY.encode()).hexdigest()
EXPECTED = {
    "topProducts": [
        {"name": "Table", "price": 899},
        {"name": "Couch", "price": 1299},
        {"name": "Chair", "price": 54},
    ]
}


def persisted(sha256: str = SHA, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256}}


async def post(stack: Stack, body: dict[str, Any], url: str | None = None) -> tuple[int, Any, Any]:
    async with stack.session.post(
        (url or stack.gateway_url) + "/graphql",
        json=body,
        headers={"Accept": "application/graphql-response+json"},
    ) as response:
        return response.status, await response.json(content_type=None), response.headers


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with AsyncExitStack() as exits:
        yield await start_stack(SUBGRAPHS, supergraph_sdl, stack=exits)


async def test_a_hash_alone_is_unknown_until_the_document_is_sent_with_it(stack: Stack) -> None:
    status, body, headers = await post(stack, {"extensions": persisted()})
    assert status == 200  # as Apollo Server answers: its clients then send the document
    assert body == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    assert "no-cache" in headers["Cache-Control"]
    before = stack.requests["products"]
    status, body, _ = await post(stack, {"query": QUERY, "extensions": persisted()})
    assert (status, body) == (200, {"data": EXPECTED})
    status, body, _ = await post(stack, {"extensions": persisted()})
    assert (status, body) == (200, {"data": EXPECTED})
    assert stack.requests["products"] - before >= 2  # run each time, not a cached answer


async def test_a_remembered_hash_runs_over_get_with_variables(stack: Stack) -> None:
    query = "query Top($n: Int) { topProducts(first: $n) { name } }"
    sha = hashlib.sha256(query.encode()).hexdigest()
    await post(stack, {"query": query, "variables": {"n": 1}, "extensions": persisted(sha)})
    async with stack.session.get(
        stack.gateway_url + "/graphql",
        params={"extensions": json.dumps(persisted(sha)), "variables": json.dumps({"n": 2})},
        headers={"Accept": "application/json", "Apollo-Require-Preflight": "true"},
    ) as response:
        assert response.status == 200
        assert await response.json() == {
            "data": {"topProducts": [{"name": "Table"}, {"name": "Couch"}]}
        }


async def test_a_document_with_another_hash_is_refused_and_not_remembered(stack: Stack) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    status, body, _ = await post(stack, {"query": QUERY, "extensions": persisted(wrong)})
    assert status == 400 and "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    for sha in (wrong, SHA):
        status, body, _ = await post(stack, {"extensions": persisted(sha)})
        assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    ("extensions", "says"),
    [
        (persisted(version=2), "Unsupported persisted query version"),
        (persisted("abc"), "64 hexadecimal digits"),
        ({"persistedQuery": "x"}, "must be a JSON object"),
    ],
)
async def test_a_malformed_persisted_query_is_a_bad_request(
    stack: Stack, extensions: dict[str, Any], says: str
) -> None:
    status, body, _ = await post(stack, {"query": QUERY, "extensions": extensions})
    assert status == 400
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert says in body["errors"][0]["message"]


async def test_a_document_that_does_not_validate_is_not_remembered(stack: Stack) -> None:
    query = "{ topProducts { nope } }"
    sha = hashlib.sha256(query.encode()).hexdigest()
    status, body, _ = await post(stack, {"query": query, "extensions": persisted(sha)})
    assert status == 400
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    _, body, _ = await post(stack, {"extensions": persisted(sha)})
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_the_memory_keeps_the_most_recent_within_its_bounds() -> None:
    memory = MemoryPersistedQueries(max_entries=3, max_chars=100)
    for n in range(4):
        await memory.put("view", f"h{n}", f"q{n}")
    assert len(memory) == 3 and await memory.get("view", "h0") is None
    assert await memory.get("view", "h1") == "q1"  # now the most recent
    await memory.put("view", "big", "x" * 94)  # four entries: the least recent goes
    assert [await memory.get("view", h) for h in ("h2", "h3", "h1")] == [None, "q3", "q1"]
    await memory.put("view", "bigger", "y" * 99)  # over 100 characters: all but it go
    assert len(memory) == 1 and await memory.get("view", "bigger") == "y" * 99
    await memory.put("view", "huge", "x" * 101)  # larger than the whole memory
    assert await memory.get("view", "huge") is None
    assert await memory.get("other view", "bigger") is None  # kept per view


# -- shared through Redis -------------------------------------------------------------------


async def test_gateways_sharing_redis_know_each_other_s_documents(
    stack: Stack, shared_redis: SharedRedis
) -> None:
    async with AsyncExitStack() as exits:
        urls = []
        for _ in range(2):
            gateway = Gateway.from_sdl(supergraph_sdl(stack.subgraph_urls))
            store = RedisPersistedQueries(shared_redis.url, prefix=shared_redis.prefix)
            app = create_app(gateway, open_mode=True, persisted_queries=store)
            urls.append(await exits.enter_async_context(serve(app)))
        one, two = urls
        _, body, _ = await post(stack, {"extensions": persisted()}, url=two)
        assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        await post(stack, {"query": QUERY, "extensions": persisted()}, url=one)
        status, body, _ = await post(stack, {"extensions": persisted()}, url=two)
        assert (status, body) == (200, {"data": EXPECTED})
        (key,) = await shared_redis.keys()
        assert key.startswith(f"{shared_redis.prefix}:apq:") and key.endswith(":" + SHA)
        client = shared_redis.client()
        try:
            assert 0 < await client.ttl(key) <= 7 * 24 * 3600
            # A document in Redis that is not the one its hash names is never run.
            other = "query Other { topProducts { upc } }"
            forged = key.rsplit(":", 1)[0] + ":" + hashlib.sha256(b"forged").hexdigest()
            await client.set(forged, other)
        finally:
            await client.aclose()
        _, body, _ = await post(stack, {"extensions": persisted(forged.rsplit(":", 1)[1])}, url=two)
        assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_without_redis_a_gateway_remembers_in_its_own_memory_and_says_so(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = Gateway.from_sdl(supergraph_sdl(stack.subgraph_urls))
    store = RedisPersistedQueries(f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(gateway, open_mode=True, persisted_queries=store)
    with caplog.at_level(logging.ERROR, logger="tonle.gateway"):
        async with serve(app) as url:
            _, body, _ = await post(stack, {"extensions": persisted()}, url=url)
            assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
            status, body, _ = await post(
                stack, {"query": QUERY, "extensions": persisted()}, url=url
            )
            assert (status, body) == (200, {"data": EXPECTED})
            status, body, _ = await post(stack, {"extensions": persisted()}, url=url)
            assert (status, body) == (200, {"data": EXPECTED})
    alarms = [r for r in caplog.records if "PERSISTED QUERIES NOT SHARED" in r.getMessage()]
    assert len(alarms) == 1  # once a minute, not once a request
