"""The idpoor subgraph's HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CollectorRegistry, Counter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import ASGIApp

from subgraphs.idpoor.operator import IdPoorClient
from subgraphs.idpoor.schema import IdPoorContext, make_context, schema
from subgraphs.idpoor.settings import IdPoorSettings
from subgraphs.server import build_subgraph_app

OPERATOR = "idpoor"


def create_app(
    operator_url: str | None = None,
    *,
    timeout_s: float | None = None,
    max_batch: int | None = None,
    gateway_secret: str | None = None,
) -> ASGIApp:
    """The subgraph, calling the IDPoor system at ``operator_url`` (or ``TONLE_IDPOOR_URL``).

    ``timeout_s`` (``TONLE_IDPOOR_TIMEOUT_S``, default 5) bounds each call to the
    operator; ``max_batch`` (``TONLE_IDPOOR_MAX_BATCH``, default 100) is the most SPIDs
    the operator accepts in one call.
    """
    settings = IdPoorSettings.from_env(
        operator_url=operator_url, timeout_s=timeout_s, max_batch=max_batch
    )
    # A registry per app, so that several apps in one process (tests, the demo) each
    # count their own calls.
    registry = CollectorRegistry()
    calls = Counter(
        "tonle_operator_requests",
        "Requests sent to each operator's system.",
        ["operator"],
        registry=registry,
    )
    client = IdPoorClient(
        settings.operator_url,
        timeout_s=settings.timeout_s,
        max_batch=settings.max_batch,
        on_request=calls.labels(operator=OPERATOR).inc,
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await client.open()
        try:
            yield
        finally:
            await client.close()

    def context(_: Request) -> IdPoorContext:
        return make_context(client)

    return build_subgraph_app(
        schema,
        context_getter=context,
        lifespan=lifespan,
        registry=registry,
        gateway_secret=gateway_secret,
    )
