"""Request limits over real HTTP: body, headers, variables, a slow body, the total deadline,
the cost in the answer's extensions, and one person's query answered while others abuse."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import aiohttp
import pytest
from starlette.types import ASGIApp
from strawberry.asgi import GraphQL

from gateway import Gateway, create_app
from gateway.limits import HttpLimits, OperationLimits
from tests.gateway.classic import SUBGRAPHS, supergraph_sdl
from tests.gateway.conftest import Stack, start_stack
from tests.gateway.test_timeouts import SlowApp
from tests.servers import serve, serve_all

LIMITS = HttpLimits(
    max_body_bytes=64 * 1024,
    max_header_bytes=8 * 1024,
    max_variables_bytes=4 * 1024,
    body_timeout_s=0.5,
    request_timeout_s=1.0,
)


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with AsyncExitStack() as exits:
        yield await start_stack(
            SUBGRAPHS, supergraph_sdl, stack=exits, gateway_kwargs={"http_limits": LIMITS}
        )


async def test_a_body_over_the_limit_is_refused_with_413(stack: Stack) -> None:
    just_under = "{ topProducts { upc } }" + " " * (LIMITS.max_body_bytes - 100)
    status, body = await stack.post(just_under)
    assert status == 200 and "errors" not in body
    status, body = await stack.post(just_under + " " * 200)
    assert status == 413
    assert body["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    # A body that lies about its length is cut off all the same.
    async with stack.session.post(
        stack.gateway_url + "/graphql",
        data=_chunks(b'{"query": "{ __typename }", "x": "' + b"y" * 200_000 + b'"}'),
        headers={"Content-Type": "application/json"},
    ) as response:
        assert response.status == 413


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 16_384):
        yield data[start : start + 16_384]


async def test_headers_over_the_limit_are_refused_with_431(stack: Stack) -> None:
    status, _ = await stack.post("{ __typename }", headers={"X-Padding": "p" * 7000})
    assert status == 200
    status, body = await stack.post("{ __typename }", headers={"X-Padding": "p" * 9000})
    assert status == 431
    assert "8192" in body["errors"][0]["message"]


async def test_variables_over_the_limit_are_refused(stack: Stack) -> None:
    query = "query Q($x: String!) { __type(name: $x) { name } }"
    status, _ = await stack.post(query, {"x": "v" * 3000})
    assert status == 200
    status, body = await stack.post(query, {"x": "v" * 5000})
    assert status == 413
    assert "variables" in body["errors"][0]["message"]


async def test_a_client_that_sends_its_body_slowly_is_let_go(stack: Stack) -> None:
    host, port = stack.gateway_url.removeprefix("http://").split(":")
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"query"'
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert b" 408 " in status_line
    assert time.monotonic() - started < 2


async def test_an_answer_past_the_deadline_is_504_and_frees_the_request() -> None:
    apps: dict[str, ASGIApp] = {
        name: GraphQL(schema, graphql_ide=None) for name, schema in SUBGRAPHS.items()
    }
    apps["inventory"] = SlowApp(apps["inventory"], 5.0)  # within its own 10 s timeout
    async with AsyncExitStack() as exits:
        bases = await exits.enter_async_context(serve_all(apps))
        urls = {name: base + "/graphql" for name, base in bases.items()}
        app = create_app(
            Gateway.from_sdl(supergraph_sdl(urls)),
            open_mode=True,
            subgraph_timeout_s=10.0,
            http_limits=LIMITS,
        )
        gateway = await exits.enter_async_context(serve(app))
        session = await exits.enter_async_context(aiohttp.ClientSession())
        started = time.monotonic()
        async with session.post(
            gateway + "/graphql", json={"query": "{ topProducts { upc inStock } }"}
        ) as response:
            body = await response.json()
            status = response.status
        elapsed = time.monotonic() - started
    assert status == 504
    assert body["errors"][0]["extensions"]["code"] == "GATEWAY_TIMEOUT"
    assert "data" not in body
    assert 0.9 < elapsed < 2.0


async def test_the_estimated_cost_is_in_the_answer_when_asked(stack: Stack) -> None:
    async with stack.session.post(
        stack.gateway_url + "/graphql",
        json={"query": "{ topProducts(first: 3) { upc name } }", "extensions": {"cost": True}},
    ) as response:
        body = await response.json()
    cost = body["extensions"]["cost"]
    assert cost["estimated"] == 3 + 3 * 2  # three products, two fields each
    assert cost["depth"] == 2 and cost["limits"]["maxCost"] == OperationLimits().max_cost
    _, plain = await stack.post("{ topProducts(first: 3) { upc } }")
    assert "extensions" not in plain


async def test_one_persons_query_answers_within_a_second_while_others_abuse(stack: Stack) -> None:
    hostile = [
        "{ " + " ".join(f"a{i}: __typename" for i in range(100_000)) + " }",
        "{ " + " ".join(f"t{i}: topProducts(first: 10000) {{ upc }}" for i in range(25)) + " }",
        "{ "
        + "users { reviews { product { reviews { author { " * 5
        + "id"
        + " } } } } }" * 5
        + " }",
    ]

    async def abuse() -> None:
        for query in hostile * 5:
            status, body = await stack.post(query)
            assert status in (200, 400, 413), (status, body)

    abusers = [asyncio.create_task(abuse()) for _ in range(8)]
    await asyncio.sleep(0.05)
    started = time.monotonic()
    status, body = await stack.post("{ me { id name } }")
    elapsed = time.monotonic() - started
    await asyncio.gather(*abusers)
    assert (status, body) == (200, {"data": {"me": {"id": "1", "name": "Ada Lovelace"}}})
    assert elapsed < 1.0
