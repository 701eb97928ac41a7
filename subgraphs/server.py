"""The HTTP shell every subgraph runs in: GraphQL, health, metrics and gateway trust."""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.federation import Schema

from policies import (
    SIGNATURE_HEADER,
    MemoryNonceStore,
    NonceStore,
    NonceStoreFull,
    Signature,
    SignatureError,
    verify,
)
from policies.caller import SIGNED_PREFIX
from policies.redis_nonces import RedisNonceStore
from subgraphs.disconnect import CancelOnDisconnect
from subgraphs.view import GraphQLView

GATEWAY_SECRET_ENV = "TONLE_GATEWAY_SECRET"
SUBGRAPH_NAME_ENV = "TONLE_SUBGRAPH_NAME"
METRICS_TOKEN_ENV = "TONLE_METRICS_TOKEN"
REDIS_URL_ENV = "TONLE_REDIS_URL"
REDIS_PREFIX_ENV = "TONLE_REDIS_PREFIX"

Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]

_SIGNATURE_NAME = SIGNATURE_HEADER.lower().encode()
_SIGNED_PREFIX = SIGNED_PREFIX.encode()
REPLAYED = (
    "replayed signature: the gateway signs every request afresh and a subgraph answers each "
    "signed request once"
)


def _error(message: str, code: str, status: int, headers: dict[str, str] | None = None) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


def _target(scope: Scope) -> str:
    """The path and query string as they came on the wire (what the gateway signed)."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    query = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


class RequireGatewaySignature:
    """ASGI middleware: /graphql answers only POSTs the gateway signed for this subgraph, once.

    ``audience`` is this subgraph's name in the supergraph; a request signed for another
    subgraph is refused. Whatever is refused is refused before any GraphQL runs: 405 for
    another method, 401 ``UNAUTHENTICATED`` for a signature that is missing, malformed,
    stale, made for another request, or seen before.
    """

    def __init__(
        self,
        app: ASGIApp,
        secret: str,
        *,
        audience: str,
        nonces: NonceStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.secret = secret
        self.audience = audience
        self.nonces = nonces if nonces is not None else MemoryNonceStore()
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/graphql"):
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            refusal = _error(
                "subgraphs answer only POST requests from the Tonle gateway; send your query "
                "to the gateway",
                "BAD_REQUEST",
                405,
                {"Allow": "POST"},
            )
            await refusal(scope, receive, send)
            return
        header: str | None = None
        signed: list[tuple[str, str]] = []
        try:
            for name, value in scope["headers"]:
                if name == _SIGNATURE_NAME:
                    if header is not None:
                        raise SignatureError(f"more than one {SIGNATURE_HEADER}")
                    header = value.decode("latin-1")
                elif name.startswith(_SIGNED_PREFIX):
                    signed.append((name.decode("latin-1"), value.decode("utf-8")))
            # Refused before the body is read: a forger cannot make us read megabytes.
            signature = Signature.parse(header)
            signature.check_time(self.clock())
        except UnicodeDecodeError:
            await self._refuse("an X-Tonle- header is not UTF-8", scope, receive, send)
            return
        except SignatureError as error:
            await self._refuse(str(error), scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = verify(
            self.secret,
            method="POST",
            audience=self.audience,
            target=_target(scope),
            body=body,
            headers=signed,
            signature=header,
            now=self.clock(),
        )
        if problem is None:
            try:
                if not await self.nonces.first_use(signature.nonce, signature.expires_at):
                    problem = REPLAYED
            except NonceStoreFull as full:
                await _error(str(full), "SUBGRAPH_UNAVAILABLE", 503)(scope, receive, send)
                return
        if problem is not None:
            await self._refuse(problem, scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, reason: str, scope: Scope, receive: Receive, send: Send) -> None:
        await _error(reason, "UNAUTHENTICATED", 401)(scope, receive, send)


def bearer_token_matches(request: Request, token: str) -> bool:
    """Whether ``request`` carries ``Authorization: Bearer <token>`` (compared in constant time)."""
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def token_refusal(what: str, variable: str) -> Response:
    return JSONResponse(
        {"error": f"{what} needs Authorization: Bearer <the token set in {variable}>"},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def build_subgraph_app(
    schema: Schema,
    *,
    name: str,
    context_getter: Callable[[Request], Any] | None = None,
    lifespan: Lifespan | None = None,
    registry: CollectorRegistry | None = None,
    gateway_secret: str | None = None,
    nonces: NonceStore | None = None,
    metrics_token: str | None = None,
) -> ASGIApp:
    """A Starlette app serving ``schema`` at /graphql with /health and /metrics.

    When ``gateway_secret`` (or ``TONLE_GATEWAY_SECRET``) is set, /graphql answers only
    POST requests the gateway signed for this subgraph: ``name`` as the supergraph names
    it, unless ``TONLE_SUBGRAPH_NAME`` says otherwise. ``nonces`` remembers the signatures
    already used (default: in this process's memory). When ``metrics_token`` (or
    ``TONLE_METRICS_TOKEN``) is set, /metrics answers only ``Authorization: Bearer
    <token>``. A request whose client hangs up before its answer is cancelled
    (:class:`~subgraphs.disconnect.CancelOnDisconnect`), counted in
    ``tonle_cancelled_requests_total``.
    """
    token = metrics_token if metrics_token is not None else os.environ.get(METRICS_TOKEN_ENV)
    # The shell's own counters, apart from the schema's: several apps may share a process.
    shell = CollectorRegistry()
    cancelled = Counter(
        "tonle_cancelled_requests",
        "Requests whose client hung up before the answer; their work was cancelled.",
        registry=shell,
    )

    class _GraphQL(GraphQLView):
        async def get_context(self, request: Any, response: Any) -> Any:
            if context_getter is None:
                return {"request": request, "response": response}
            return context_getter(request)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        from prometheus_client import REGISTRY

        if token and not bearer_token_matches(request, token):
            return token_refusal("/metrics", METRICS_TOKEN_ENV)
        body = generate_latest(registry or REGISTRY) + generate_latest(shell)
        return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def no_lifespan(_: Starlette) -> AsyncIterator[None]:
        yield

    app: ASGIApp = Starlette(
        routes=[
            Route("/health", health),
            Route("/metrics", metrics),
            Route("/graphql", _GraphQL(schema, graphql_ide=None), methods=["GET", "POST"]),
        ],
        lifespan=lifespan or no_lifespan,
    )
    # Inside the signature check: a forged request is refused before its body is read.
    app = CancelOnDisconnect(app, on_cancel=cancelled.inc)
    secret = gateway_secret if gateway_secret is not None else os.environ.get(GATEWAY_SECRET_ENV)
    if secret:
        audience = os.environ.get(SUBGRAPH_NAME_ENV) or name
        return RequireGatewaySignature(
            app,
            secret,
            audience=audience,
            nonces=nonces if nonces is not None else shared_nonces(audience),
        )
    return app


def shared_nonces(audience: str) -> NonceStore | None:
    """With ``TONLE_REDIS_URL``, the nonces of every replica of this subgraph in Redis, so a
    signed request is answered once by all of them (default: each process remembers its own)."""
    url = os.environ.get(REDIS_URL_ENV)
    if not url:
        return None
    prefix = os.environ.get(REDIS_PREFIX_ENV) or "tonle"
    return RedisNonceStore.from_url(url, prefix=f"{prefix}:subgraph:{audience}")
