"""The identity subgraph's HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import ASGIApp

import identity_store
from identity_store import create_engine, load_gazetteer, session_factory
from identity_store.matching import MatchModel
from subgraphs.collector import settle_long_lived
from subgraphs.identity.context import IdentityContext, caller_of, make_context
from subgraphs.identity.schema import schema
from subgraphs.server import build_subgraph_app


class _Registry:
    """The sessions the lifespan opens; requests before it (or without it) are refused."""

    sessions: async_sessionmaker[AsyncSession] | None = None
    match_model: MatchModel | None = None

    def context(self, request: Request) -> IdentityContext:
        if self.sessions is None:
            raise RuntimeError(
                "the identity subgraph's database is not open: serve the app with its "
                "lifespan enabled (uvicorn's default)"
            )
        return make_context(self.sessions, self.match_model, caller_of(request.headers))


def create_app(
    database_url: str | None = None, *, match_model: MatchModel | None = None
) -> ASGIApp:
    """The identity subgraph over the registry at ``database_url``.

    ``database_url`` defaults to ``TONLE_DATABASE_URL``; the database must already be
    migrated (``identity_store.migrate``). The engine opens on startup, closes on shutdown.
    Registrations are decided with ``match_model`` (default: the model shipped with Tonle).
    """
    url = database_url or identity_store.database_url()
    registry = _Registry()
    registry.match_model = match_model

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # A statement that runs too long is stopped (TONLE_DB_STATEMENT_TIMEOUT_S), so
        # one heavy request cannot hold the pool's connections for everyone else.
        engine = create_engine(
            url,
            statement_timeout_s=identity_store.statement_timeout_s(),
            pool_size=identity_store.pool_size(),
        )
        registry.sessions = session_factory(engine)
        # The gazetteer and the imports are long-lived objects: loaded before serving and
        # frozen out of the cyclic collector's reach, they no longer make each full
        # collection a pause of hundreds of milliseconds in the middle of a request.
        load_gazetteer()
        settle_long_lived()
        try:
            yield
        finally:
            registry.sessions = None
            await engine.dispose()

    return build_subgraph_app(
        schema, name="identity", context_getter=registry.context, lifespan=lifespan
    )
