"""The HTTP shell every subgraph runs in: GraphQL, health, metrics and gateway trust."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.federation import Schema

from policies import SIGNATURE_HEADER, verify

GATEWAY_SECRET_ENV = "TONLE_GATEWAY_SECRET"

Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]


class RequireGatewaySignature:
    """ASGI middleware: answer 401 to any /graphql request the gateway did not sign."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        self.app = app
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/graphql"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        header = Request(scope).headers.get(SIGNATURE_HEADER)
        problem = verify(self.secret, body, header)
        if problem is not None:
            error = {"errors": [{"message": problem, "extensions": {"code": "UNAUTHENTICATED"}}]}
            await JSONResponse(error, status_code=401)(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def build_subgraph_app(
    schema: Schema,
    *,
    context_getter: Callable[[Request], Any] | None = None,
    lifespan: Lifespan | None = None,
    registry: CollectorRegistry | None = None,
    gateway_secret: str | None = None,
) -> ASGIApp:
    """A Starlette app serving ``schema`` at /graphql with /health and /metrics.

    When ``gateway_secret`` (or ``TONLE_GATEWAY_SECRET``) is set, /graphql answers
    only requests signed by the gateway.
    """

    class _GraphQL(GraphQL[Any, None]):
        async def get_context(self, request: Any, response: Any) -> Any:
            if context_getter is None:
                return {"request": request, "response": response}
            return context_getter(request)

        def encode_json(self, data: object) -> bytes:
            return orjson.dumps(data)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(_: Request) -> Response:
        from prometheus_client import REGISTRY

        body = generate_latest(registry or REGISTRY)
        return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def no_lifespan(_: Starlette) -> AsyncIterator[None]:
        yield

    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/metrics", metrics),
            Route("/graphql", _GraphQL(schema, graphql_ide=None), methods=["GET", "POST"]),
        ],
        lifespan=lifespan or no_lifespan,
    )
    secret = gateway_secret if gateway_secret is not None else os.environ.get(GATEWAY_SECRET_ENV)
    if secret:
        return RequireGatewaySignature(app, secret)
    return app
