"""The gateway's HTTP face: GraphQL over HTTP, the explorer page, health and metrics."""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.errors import GatewayError
from gateway.executor import Transport
from gateway.explorer import Explorer
from gateway.metrics import GatewayMetrics
from gateway.runtime import Gateway, MultipleRequestErrors, RequestError
from gateway.transport import AiohttpTransport

GRAPHQL_RESPONSE = "application/graphql-response+json"
APPLICATION_JSON = "application/json"


class _Reply(Response):
    media_type = APPLICATION_JSON

    def __init__(self, content: Any, status: int, media_type: str, **kw: Any) -> None:
        super().__init__(orjson.dumps(content), status_code=status, media_type=media_type, **kw)


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


def _error_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"errors": errors}


def create_app(
    gateway: Gateway,
    *,
    transport: Transport | None = None,
    open_mode: bool = False,
    partner_keys: Mapping[str, str] | None = None,
    subgraph_timeout_s: float = 10.0,
    subgraph_timeouts: Mapping[str, float] | None = None,
    gateway_secret: str | None = None,
    subgraph_urls: Mapping[str, str] | None = None,
) -> Starlette:
    """The Starlette app serving ``gateway``.

    Unless ``open_mode`` is set, every GraphQL request must carry one of
    ``partner_keys`` (key -> partner name) as ``Authorization: Bearer <key>`` or
    ``X-Api-Key``.
    """
    metrics = GatewayMetrics()
    own_transport = transport is None
    urls = {**gateway.subgraph_urls(), **(subgraph_urls or {})}
    for label, names in (("URL", subgraph_urls), ("timeout", subgraph_timeouts)):
        unknown = sorted(set(names or {}) - set(gateway.subgraph_urls()))
        if unknown:
            raise ValueError(
                f"a subgraph {label} is set for {', '.join(unknown)}, which the supergraph "
                f"does not have; its subgraphs are {', '.join(sorted(gateway.subgraph_urls()))}."
            )
    active: Transport = transport or AiohttpTransport(
        urls,
        timeout_s=subgraph_timeout_s,
        timeouts=subgraph_timeouts,
        gateway_secret=gateway_secret,
        on_request=metrics.subgraph_request,
    )
    keys = dict(partner_keys or {})
    explorer = Explorer()

    def authenticate(request: Request) -> str | None:
        if open_mode:
            return "open"
        given = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if not given and auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if not given:
            return None
        for key, partner in keys.items():
            if hmac.compare_digest(key.encode(), given.encode()):
                return partner
        return None

    async def graphql(request: Request) -> Response:
        started = time.perf_counter()
        media = _media_type(request)
        if (
            request.method == "GET"
            and "text/html" in request.headers.get("accept", "")
            and "query" not in request.query_params
        ):
            return explorer.page(request)
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

        def fail(errors: list[dict[str, Any]], status: int, **kw: Any) -> Response:
            metrics.requests.labels(outcome="rejected").inc()
            return _Reply(
                _error_body(errors), 200 if legacy and status == 400 else status, media, **kw
            )

        partner = authenticate(request)
        if partner is None:
            return fail(
                [
                    {
                        "message": "No valid partner credentials: send your API key as "
                        "'Authorization: Bearer <key>' or 'X-Api-Key: <key>'.",
                        "extensions": {"code": "UNAUTHENTICATED"},
                    }
                ],
                401,
            )

        params = await _read_params(request)
        if isinstance(params, Response):
            return params
        query, operation_name, variables = params
        try:
            prepared = gateway.prepare(query, operation_name)
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
            coerced = gateway.coerce_variables(prepared, variables)
        except MultipleRequestErrors as error:
            return fail([e.as_error() for e in error.errors], error.status)
        except RequestError as error:
            return fail([error.as_error()], error.status)
        except GatewayError as error:
            return fail([{"message": str(error), "extensions": {"code": error.code}}], 400)
        result = await gateway.run(prepared, coerced, active)
        metrics.requests.labels(outcome="errors" if "errors" in result else "ok").inc()
        metrics.latency.observe(time.perf_counter() - started)
        return _Reply(result, 200, media)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok", "open": open_mode})

    async def metrics_endpoint(_: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        if own_transport and isinstance(active, AiohttpTransport):
            await active.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/health", health),
            Route("/metrics", metrics_endpoint),
            *explorer.routes,
        ],
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.gateway = gateway
    return app


def _bad_request(message: str, status: int = 400) -> Response:
    return JSONResponse(
        _error_body([{"message": message, "extensions": {"code": "BAD_REQUEST"}}]),
        status_code=status,
    )


async def _read_params(
    request: Request,
) -> tuple[str, str | None, dict[str, Any] | None] | Response:
    if request.method == "GET":
        raw: dict[str, Any] = dict(request.query_params)
        if raw.get("variables"):
            try:
                raw["variables"] = json.loads(raw["variables"])
            except ValueError:
                return _bad_request("The 'variables' query parameter is not valid JSON.")
    else:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != APPLICATION_JSON:
            return _bad_request(
                "Send GraphQL requests as JSON with 'Content-Type: application/json'.", 415
            )
        try:
            raw = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _bad_request("The request body is not valid JSON.")
        if not isinstance(raw, dict):
            return _bad_request("The request body must be a JSON object with a 'query'.")
    query = raw.get("query")
    if not isinstance(query, str) or not query.strip():
        return _bad_request("The request has no 'query': send the GraphQL document as a string.")
    operation_name = raw.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        return _bad_request("'operationName' must be a string or null.")
    variables = raw.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return _bad_request("'variables' must be a JSON object or null.")
    return query, operation_name or None, variables
