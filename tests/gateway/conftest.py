"""Fixtures that run real subgraphs and a real gateway over HTTP on 127.0.0.1."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import strawberry
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL

from gateway import Gateway, create_app
from tests.gateway.classic import SUBGRAPHS, supergraph_sdl
from tests.servers import free_port, serve, serve_all


class CountingApp:
    """Counts the HTTP requests an ASGI app receives."""

    def __init__(self, app: ASGIApp, name: str, counter: Counter[str]) -> None:
        self.app = app
        self.name = name
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.counter[self.name] += 1
        await self.app(scope, receive, send)


@dataclass
class Stack:
    """Running subgraphs and a gateway, and a client to call it."""

    gateway_url: str
    subgraph_urls: dict[str, str]
    session: aiohttp.ClientSession
    requests: Counter[str] = field(default_factory=Counter)

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        accept: str = "application/graphql-response+json",
        headers: Mapping[str, str] | None = None,
        operation_name: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        if operation_name is not None:
            body["operationName"] = operation_name
        async with self.session.post(
            self.gateway_url + "/graphql",
            json=body,
            headers={"Accept": accept, **(headers or {})},
        ) as response:
            return response.status, await response.json(content_type=None)

    async def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        status, body = await self.post(query, variables)
        assert status == 200, body
        return body


async def start_stack(
    schemas: Mapping[str, strawberry.federation.Schema],
    sdl_for_urls: Any,
    *,
    stack: AsyncExitStack,
    down: frozenset[str] = frozenset(),
    gateway_kwargs: dict[str, Any] | None = None,
) -> Stack:
    requests: Counter[str] = Counter()
    apps: dict[str, ASGIApp] = {
        name: CountingApp(GraphQL(schema, graphql_ide=None), name, requests)
        for name, schema in schemas.items()
        if name not in down
    }
    bases = await stack.enter_async_context(serve_all(apps))
    urls = {name: base + "/graphql" for name, base in bases.items()}
    for name in down:
        # A port nobody listens on: connections are refused.
        urls[name] = f"http://127.0.0.1:{free_port()}/graphql"
    gateway = Gateway.from_sdl(sdl_for_urls(urls))
    kwargs = {"open_mode": True, "subgraph_timeout_s": 2.0, **(gateway_kwargs or {})}
    session = await stack.enter_async_context(aiohttp.ClientSession())
    gateway_url = await stack.enter_async_context(serve(create_app(gateway, **kwargs)))
    return Stack(gateway_url, urls, session, requests)


@pytest.fixture
async def classic() -> AsyncIterator[Stack]:
    async with AsyncExitStack() as stack:
        yield await start_stack(SUBGRAPHS, supergraph_sdl, stack=stack)
