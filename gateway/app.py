"""The gateway's HTTP face: GraphQL over HTTP, the explorer page, health and metrics.

``create_app`` only wires: the state the handlers read (``request.app.state.tonle``), the
routes, and the lifespan. Who may call, and what each caller sees, is an
:class:`~gateway.access.AccessControl`'s decision: Tonle's policies in production, a fixed
list of keys for single-tenant use, nobody's in ``--open`` mode.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.access import (
    OPEN_VIEW,
    AccessControl,
    AccessRefused,
    AccessView,
    Admission,
    ResponseFacts,
)
from gateway.errors import GatewayError
from gateway.executor import Transport
from gateway.explorer import Explorer
from gateway.limits import HttpLimits, LimitExceeded
from gateway.metrics import GatewayMetrics
from gateway.persisted import (
    MemoryPersistedQueries,
    PersistedQueries,
    PersistedQueryError,
    document_hash,
    not_found,
    persisted_hash,
)
from gateway.runtime import Gateway, MultipleRequestErrors, PreparedRequest, RequestError
from gateway.transport import AiohttpTransport

GRAPHQL_RESPONSE = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
JSON = dict[str, Any]

logger = logging.getLogger("tonle.gateway")


class _Reply(Response):
    media_type = APPLICATION_JSON

    def __init__(self, content: Any, status: int, media_type: str, **kw: Any) -> None:
        super().__init__(orjson.dumps(content), status_code=status, media_type=media_type, **kw)


@dataclass
class _Open:
    """The admission of a caller who may see the whole API schema."""

    view: AccessView = OPEN_VIEW
    subgraph_headers: Mapping[str, str] = field(default_factory=dict)

    def persisted_document(self, sha256: str) -> str | None:
        return None

    def approve_document(self, sha256: str) -> None:
        return None

    def check(self, prepared: PreparedRequest, variables: Mapping[str, Any]) -> None:
        return None

    async def complete(self, prepared: PreparedRequest, facts: ResponseFacts, outcome: str) -> None:
        return None


class KeyList:
    """Single-tenant access: any of a fixed set of API keys sees the whole API schema."""

    def __init__(self, keys: Mapping[str, str]) -> None:
        self.keys = {key.encode(): partner for key, partner in keys.items()}

    async def admit(self, request: Request) -> Admission:
        given = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if not given and auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
        if given and any(hmac.compare_digest(key, given.encode()) for key in self.keys):
            return _Open()
        raise AccessRefused(
            "No valid partner credentials: send your API key as "
            "'Authorization: Bearer <key>' or 'X-Api-Key: <key>'.",
            "UNAUTHENTICATED",
            401,
        )


@dataclass
class GatewayState:
    """What the handlers of one app share."""

    gateway: Gateway
    transport: Transport
    metrics: GatewayMetrics
    explorer: Explorer
    access: AccessControl | None  # None: --open, everyone sees everything
    open_mode: bool
    http: HttpLimits = field(default_factory=HttpLimits)
    persisted: PersistedQueries = field(default_factory=MemoryPersistedQueries)


@dataclass(frozen=True)
class GraphQLParams:
    """What a GraphQL-over-HTTP request asks: the document (or only its SHA-256, a persisted
    query), its operation, its variables."""

    query: str | None
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any]
    persisted: str | None = None  # extensions.persistedQuery.sha256Hash

    @property
    def wants_cost(self) -> bool:
        return self.extensions.get("cost") is True


# Headers a browser cannot send cross-site without a CORS preflight: a GET carrying one of
# them was not sent by a form or an <img> on another site (GraphQL over HTTP, CSRF).
_PREFLIGHTED = frozenset(
    {b"authorization", b"x-api-key", b"x-purpose", b"apollo-require-preflight",
     b"x-tonle-preflight"}
)  # fmt: skip


def _media_type(request: Request) -> str | None:
    """The response media type the client accepts, or None when it accepts neither."""
    accept = request.headers.get("accept", "")
    if not accept.strip():
        return APPLICATION_JSON
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        q = 1.0
        for p in pieces[1:]:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if media in (GRAPHQL_RESPONSE, APPLICATION_JSON, "*/*", "application/*") and q > 0:
            ranked.append((q, -i, media))
    if not ranked:
        return None
    media = max(ranked)[2]
    return APPLICATION_JSON if media in ("*/*", "application/*") else media


def _error_body(errors: list[JSON]) -> JSON:
    return {"errors": errors}


def _outcome(result: JSON) -> str:
    if "errors" not in result:
        return "ok"
    return "error" if result.get("data") is None else "partial"


async def graphql_endpoint(request: Request) -> Response:
    """GraphQL over HTTP: admit, prepare for the caller's view, run, check, answer."""
    state: GatewayState = request.app.state.tonle
    started = time.perf_counter()
    if (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    ):
        return state.explorer.page(request)
    blocked = _refuse_request(request, state.http)
    if blocked is not None:
        state.metrics.requests.labels(outcome="rejected").inc()
        return blocked
    media = _media_type(request)
    if media is None:
        return JSONResponse(
            _error_body(
                [
                    {
                        "message": "Accept must allow application/graphql-response+json "
                        "or application/json.",
                        "extensions": {"code": "BAD_REQUEST"},
                    }
                ]
            ),
            status_code=406,
        )
    legacy = media == APPLICATION_JSON

    def fail(
        errors: list[JSON], status: int, *, request_error: bool = False, **kw: Any
    ) -> Response:
        state.metrics.requests.labels(outcome="rejected").inc()
        # The legacy media type answers a request that could not run with 200, as the
        # GraphQL over HTTP spec allows; refusals keep their status whatever the type.
        if legacy and request_error and status == 400:
            status = 200
        return _Reply(_error_body(errors), status, media, **kw)

    try:
        admission: Admission = (
            await state.access.admit(request) if state.access is not None else _Open()
        )
        params = await _read_params(request, state.http)
        if isinstance(params, Response):
            return params
        query, remember = await _document(params, admission, state.persisted)
        prepared = state.gateway.prepare(query, params.operation_name, view=admission.view)
        if remember:
            assert params.persisted is not None
            await state.persisted.put(admission.view.key, params.persisted, query)
        if request.method == "GET" and prepared.operation.kind != "query":
            return fail(
                [
                    {
                        "message": f"Only queries can be sent with GET; send this "
                        f"{prepared.operation.kind} with POST.",
                        "extensions": {"code": "BAD_REQUEST"},
                    }
                ],
                405,
                headers={"Allow": "POST"},
            )
        coerced = state.gateway.coerce_variables(prepared, params.variables)
        admission.check(prepared, coerced)
        cost = state.gateway.check_cost(prepared, coerced)
        facts = ResponseFacts() if state.access is not None else None
        try:
            async with asyncio.timeout(state.http.request_timeout_s):
                result = await state.gateway.run(
                    prepared,
                    coerced,
                    state.transport,
                    headers=admission.subgraph_headers,
                    facts=facts,
                )
                if facts is not None:
                    await admission.complete(prepared, facts, _outcome(result))
        except TimeoutError:
            # Leaving the block cancelled the subgraph requests still in flight, and
            # their subgraphs stop working on them when the connection closes.
            return fail(
                [
                    {
                        "message": f"No complete answer within {state.http.request_timeout_s:g} "
                        "s; nothing was returned. Ask for less, or try again later.",
                        "extensions": {"code": "GATEWAY_TIMEOUT"},
                    }
                ],
                504,
            )
        if params.wants_cost:
            result.setdefault("extensions", {})["cost"] = _cost_extension(
                state.gateway, prepared, cost
            )
    except AccessRefused as refused:
        return fail([refused.as_error()], refused.status, headers=refused.headers)
    except LimitExceeded as exceeded:
        return fail([exceeded.as_error()], 400)
    except MultipleRequestErrors as error:
        return fail([e.as_error() for e in error.errors], error.status, request_error=True)
    except RequestError as error:
        return fail([error.as_error()], error.status, request_error=True)
    except PersistedQueryError as error:
        return fail(
            [error.as_error()],
            error.status,
            request_error=error.status == 400,
            headers=error.headers,
        )
    except GatewayError as error:
        status = getattr(error, "status", 400)
        return fail(
            [{"message": str(error), "extensions": {"code": error.code}}],
            status,
            request_error=status == 400,
        )
    except Exception as error:  # a fault of ours: say so, never how
        logger.exception("unexpected %s answering a request", error.__class__.__name__)
        return fail(
            [{"message": "Internal error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}],
            500,
        )
    state.metrics.requests.labels(outcome=_outcome(result)).inc()
    state.metrics.latency.observe(time.perf_counter() - started)
    return _Reply(result, 200, media)


async def _document(
    params: GraphQLParams, admission: Admission, persisted: PersistedQueries
) -> tuple[str, bool]:
    """The document to run, and whether to remember it under its hash once it is prepared.

    A hash alone is looked up among the caller's registered documents, then among those
    remembered for its view; a document sent with a hash must have that hash. Either way
    the caller's access control may refuse the document by its hash.
    """
    sha256 = params.persisted
    if params.query is None:
        assert sha256 is not None
        admission.approve_document(sha256)
        query = admission.persisted_document(sha256)
        if query is None:
            query = await persisted.get(admission.view.key, sha256)
        if query is None:
            raise not_found()
        return query, False
    digest = document_hash(params.query)
    if sha256 is not None and sha256 != digest:
        raise PersistedQueryError(
            "The SHA-256 of the document sent is not extensions.persistedQuery.sha256Hash: "
            "hash the document exactly as sent (UTF-8), or leave the hash out.",
            "PERSISTED_QUERY_HASH_MISMATCH",
            400,
        )
    admission.approve_document(digest)
    return params.query, sha256 is not None and admission.persisted_document(digest) is None


def _cost_extension(gateway: Gateway, prepared: PreparedRequest, cost: int) -> JSON:
    limits = gateway.limits_for(prepared.view)
    shape = prepared.shape
    return {
        "estimated": cost,
        "depth": shape.depth,
        "aliases": shape.aliases,
        "rootFields": shape.root_fields,
        "limits": {
            "maxCost": limits.max_cost,
            "maxDepth": limits.max_depth,
            "maxAliases": limits.max_aliases,
            "maxRootFields": limits.max_root_fields,
            "maxTokens": limits.max_tokens,
        },
    }


def _refuse_request(request: Request, limits: HttpLimits) -> Response | None:
    """Refuse what must not be read any further: oversized headers, cross-site GETs."""
    raw = request.scope["headers"]
    size = len(request.scope.get("query_string", b"")) + sum(len(k) + len(v) for k, v in raw)
    if size > limits.max_header_bytes:
        return _bad_request(
            f"The request line and headers take {size} bytes; at most "
            f"{limits.max_header_bytes} are accepted.",
            431,
            code="LIMIT_EXCEEDED",
        )
    if request.method == "GET" and not any(name in _PREFLIGHTED for name, _ in raw):
        return _bad_request(
            "A GET request must carry a header a browser would not send cross-site "
            "(Authorization, X-Api-Key, X-Purpose or Apollo-Require-Preflight): requests "
            "without one are refused to prevent cross-site request forgery.",
            400,
        )
    return None


async def health(request: Request) -> Response:
    state: GatewayState = request.app.state.tonle
    return JSONResponse({"status": "ok", "open": state.open_mode})


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text; with a ``metrics_token`` (``TONLE_METRICS_TOKEN``), for its bearer only."""
    state: GatewayState = request.app.state.tonle
    token: str | None = request.app.state.metrics_token
    given = request.headers.get("authorization", "").encode()
    if token and not hmac.compare_digest(given, f"Bearer {token}".encode()):
        return JSONResponse(
            {"error": "/metrics needs Authorization: Bearer <TONLE_METRICS_TOKEN's token>"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


def create_app(
    gateway: Gateway,
    *,
    transport: Transport | None = None,
    open_mode: bool = False,
    access: AccessControl | None = None,
    partner_keys: Mapping[str, str] | None = None,
    subgraph_timeout_s: float = 10.0,
    subgraph_timeouts: Mapping[str, float] | None = None,
    gateway_secret: str | None = None,
    metrics_token: str | None = None,
    subgraph_urls: Mapping[str, str] | None = None,
    background: Callable[[], AbstractAsyncContextManager[None]] | None = None,
    http_limits: HttpLimits | None = None,
    persisted_queries: PersistedQueries | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The Starlette app serving ``gateway``.

    Exactly one of: ``open_mode`` (no authentication, no policies), ``access`` (an access
    control such as Tonle's policies) or ``partner_keys`` (key -> partner name: any key
    sees the whole API schema). ``background`` runs for the app's lifetime (a policy
    store's polling, an access log's writer). ``persisted_queries`` remembers the documents
    of automatic persisted queries (this process's memory by default); the app closes it.
    ``extra_routes`` are served beside the gateway's own (an app mounted at a path of its
    own, such as an admin console; their lifespans belong in ``background``).
    """
    metrics = GatewayMetrics()
    urls = {**gateway.subgraph_urls(), **(subgraph_urls or {})}
    for label, names in (("URL", subgraph_urls), ("timeout", subgraph_timeouts)):
        unknown = sorted(set(names or {}) - set(gateway.subgraph_urls()))
        if unknown:
            raise ValueError(
                f"a subgraph {label} is set for {', '.join(unknown)}, which the supergraph "
                f"does not have; its subgraphs are {', '.join(sorted(gateway.subgraph_urls()))}."
            )
    if sum((open_mode, access is not None, partner_keys is not None)) != 1:
        raise ValueError(
            "choose one of open mode, an access control or a list of partner keys; "
            "a gateway that authenticates no one must say so with open mode"
        )
    own_transport = transport is None
    active: Transport = transport or AiohttpTransport(
        urls,
        timeout_s=subgraph_timeout_s,
        timeouts=subgraph_timeouts,
        gateway_secret=gateway_secret,
        on_request=metrics.subgraph_request,
    )
    explorer = Explorer()
    persisted = persisted_queries or MemoryPersistedQueries()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if background is not None:
                await stack.enter_async_context(background())
            # What is loaded by now (the schema, the planner, the policy state) lives as
            # long as the process: frozen out of the cyclic collector's reach, it no
            # longer makes every full collection walk it in the middle of requests.
            gc.collect()
            gc.freeze()
            # A response of 10,000 people is a few hundred thousand young objects with
            # hardly a cycle among them: collecting young ones every 50,000 allocations
            # rather than 700 spares it hundreds of collections.
            gc.set_threshold(50_000, *gc.get_threshold()[1:])
            yield
            await persisted.close()
            if own_transport and isinstance(active, AiohttpTransport):
                await active.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            Route("/health", health),
            Route("/metrics", metrics_endpoint),
            *explorer.routes,
            *extra_routes,
        ],
        lifespan=lifespan,
    )
    app.state.tonle = GatewayState(
        gateway=gateway,
        transport=active,
        metrics=metrics,
        explorer=explorer,
        access=KeyList(partner_keys) if partner_keys is not None else access,
        open_mode=open_mode,
        http=http_limits or HttpLimits(),
        persisted=persisted,
    )
    app.state.metrics = metrics
    app.state.metrics_token = metrics_token
    app.state.gateway = gateway
    return app


def _bad_request(message: str, status: int = 400, *, code: str = "BAD_REQUEST") -> Response:
    return JSONResponse(
        _error_body([{"message": message, "extensions": {"code": code}}]),
        status_code=status,
    )


async def _read_body(request: Request, limits: HttpLimits) -> bytes | Response:
    """The body, read within the size and time limits."""
    declared = request.headers.get("content-length", "")
    too_large = _bad_request(
        f"The request body is larger than {limits.max_body_bytes} bytes, the most accepted.",
        413,
        code="LIMIT_EXCEEDED",
    )
    if declared.isdigit() and int(declared) > limits.max_body_bytes:
        return too_large
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(limits.body_timeout_s):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limits.max_body_bytes:
                    return too_large
                chunks.append(chunk)
    except TimeoutError:
        return _bad_request(
            f"The request body did not arrive within {limits.body_timeout_s:g} s.", 408
        )
    return b"".join(chunks)


async def _read_params(request: Request, limits: HttpLimits) -> GraphQLParams | Response:
    if request.method == "GET":
        raw: dict[str, Any] = dict(request.query_params)
        for name in ("variables", "extensions"):
            if raw.get(name):
                try:
                    # orjson, as for bodies: json.loads recurses, and a query string
                    # nested a few thousand levels deep was a RecursionError (a 500).
                    raw[name] = orjson.loads(raw[name])
                except orjson.JSONDecodeError:
                    return _bad_request(f"The '{name}' query parameter is not valid JSON.")
    else:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != APPLICATION_JSON:
            return _bad_request(
                "Send GraphQL requests as JSON with 'Content-Type: application/json'.", 415
            )
        body = await _read_body(request, limits)
        if isinstance(body, Response):
            return body
        try:
            raw = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _bad_request("The request body is not valid JSON.")
        if not isinstance(raw, dict):
            return _bad_request(
                "The request body must be one JSON object with a 'query'; "
                "batched requests (a JSON array) are not accepted."
            )
    extensions = raw.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        return _bad_request("'extensions' must be a JSON object or null.")
    try:
        sha256 = persisted_hash(extensions or {})
    except PersistedQueryError as error:
        return _bad_request(error.message)
    query = raw.get("query")
    if sha256 is not None and query in (None, ""):
        query = None  # a persisted query: the document is looked up by its hash
    elif not isinstance(query, str) or not query.strip():
        return _bad_request(
            "The request has no 'query': send the GraphQL document as a string "
            "(or the SHA-256 of one the gateway knows in extensions.persistedQuery)."
        )
    operation_name = raw.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        return _bad_request("'operationName' must be a string or null.")
    variables = raw.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return _bad_request("'variables' must be a JSON object or null.")
    try:
        size = len(orjson.dumps(variables)) if variables else 0
    except TypeError:  # orjson writes at most 254 levels; deeper is no one's variables
        return _bad_request("'variables' are nested more than 254 levels deep.")
    if size > limits.max_variables_bytes:
        return _bad_request(
            f"The variables take more than {limits.max_variables_bytes} bytes, the most accepted.",
            413,
            code="LIMIT_EXCEEDED",
        )
    return GraphQLParams(query, operation_name or None, variables, extensions or {}, sha256)
