"""The idpoor subgraph's HTTP app and settings."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CollectorRegistry, Counter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import ASGIApp

from subgraphs.idpoor.operator import IdPoorClient
from subgraphs.idpoor.schema import IdPoorContext, make_context, schema
from subgraphs.server import build_subgraph_app

OPERATOR = "idpoor"


def create_app(
    operator_url: str | None = None,
    *,
    timeout_s: float | None = None,
    max_batch: int | None = None,
) -> ASGIApp:
    """The subgraph, calling the IDPoor system at ``operator_url`` (or ``TONLE_IDPOOR_URL``)."""
    url = operator_url or os.environ.get("TONLE_IDPOOR_URL")
    if not url:
        raise SystemExit(
            "the idpoor subgraph needs the IDPoor system's base URL: set TONLE_IDPOOR_URL"
        )
    registry = CollectorRegistry()
    calls = Counter(
        "tonle_operator_requests",
        "Requests sent to each operator's system.",
        ["operator"],
        registry=registry,
    )
    client = IdPoorClient(
        url,
        timeout_s=timeout_s or float(os.environ.get("TONLE_IDPOOR_TIMEOUT_S", "5")),
        max_batch=max_batch or int(os.environ.get("TONLE_IDPOOR_MAX_BATCH", "100")),
        on_request=calls.labels(operator=OPERATOR).inc,
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await client.close()

    def context(_: Request) -> IdPoorContext:
        return make_context(client)

    return build_subgraph_app(schema, context_getter=context, lifespan=lifespan, registry=registry)
