"""The identity subgraph's HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import ASGIApp

from identity_store import create_engine, database_url, session_factory
from subgraphs.identity.schema import IdentityContext, make_context, schema
from subgraphs.server import build_subgraph_app


def create_app(database: str | None = None) -> ASGIApp:
    """The identity subgraph over the registry at ``database`` (default: ``TONLE_DATABASE_URL``)."""
    url = database or database_url()
    state: dict[str, object] = {}

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        engine = create_engine(url)
        state["sessions"] = session_factory(engine)
        try:
            yield
        finally:
            await engine.dispose()

    def context(_: Request) -> IdentityContext:
        return make_context(state["sessions"])  # type: ignore[arg-type]

    return build_subgraph_app(schema, context_getter=context, lifespan=lifespan)
