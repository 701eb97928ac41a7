"""What every sandbox is made of: its database, batch endpoint, OpenAPI, faults and admin.

A sandbox is a :class:`SandboxDefinition` — the operator's SQL schema, how it is seeded
from the synthetic population, its endpoints and their OpenAPI paths — turned into an
ASGI app by :func:`create_sandbox_app`. The shared parts (health, ``/openapi.json``,
``/admin``, fault injection, counters, the batch-size limit) live here once.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.bodies import read_json
from sandbox.faults import ADMIN_TOKEN_ENV, FaultInjection, Faults, Stats, admin_routes
from sandbox.population import Population, generate_population

DEFAULT_MAX_BATCH = 100

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class SandboxContext:
    """What a sandbox's endpoints need at run time."""

    connection: sqlite3.Connection
    max_batch: int
    stats: Stats


@dataclass(frozen=True)
class SandboxDefinition:
    """One operator's sandbox: everything that differs from one sandbox to another."""

    title: str
    description: str
    env_prefix: str  # TONLE_<OPERATOR>; faults and the batch limit are read under it
    schema: str  # SQL run on every connection (CREATE ... IF NOT EXISTS)
    count_sql: str  # how many records the database holds, to tell what seeding added
    # stores the operator's records, given a Population (or the operator's own records)
    insert: Callable[[sqlite3.Connection, Any], None]
    routes: Callable[[SandboxContext], list[BaseRoute]]
    paths: Callable[[int], dict[str, Any]]  # OpenAPI paths, given the maximum batch

    @property
    def max_batch_env(self) -> str:
        return f"{self.env_prefix}_MAX_BATCH"

    def seed(self, database_path: str | Path, records: object) -> int:
        """Store the operator's part of a population (or its own records); count the new ones."""
        return seed_database(self, database_path, records)

    def create_app(
        self,
        database_path: str | Path,
        *,
        seed_population: Population | None = None,
        max_batch_size: int | None = None,
        faults: Faults | None = None,
        admin_token: str | None = None,
    ) -> FaultInjection:
        """The sandbox over its own SQLite database; see :func:`create_sandbox_app`."""
        return create_sandbox_app(
            self,
            database_path,
            seed_population=seed_population,
            max_batch_size=max_batch_size,
            faults=faults,
            admin_token=admin_token,
        )


def connect(path: str | Path, schema: str) -> sqlite3.Connection:
    """Open (creating if needed) a sandbox database at ``path`` with ``schema``."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.executescript(schema)
    return connection


def seed_database(definition: SandboxDefinition, path: str | Path, population: object) -> int:
    """Store the operator's part of ``population``; return how many records were new.

    Idempotent: inserts are ``INSERT OR IGNORE``, so seeding twice adds nothing.
    """
    connection = connect(path, definition.schema)
    try:
        with connection:
            before = int(connection.execute(definition.count_sql).fetchone()[0])
            definition.insert(connection, population)
            after = int(connection.execute(definition.count_sql).fetchone()[0])
        return after - before
    finally:
        connection.close()


def positive_int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name}={raw!r}: give a whole number of items, at least 1")
    return int(raw)


def error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def batch_handler(
    context: SandboxContext,
    *,
    key: str,
    is_item: Callable[[object], bool],
    example: str,
    noun: str,
    answer: Callable[[Sequence[Any]], list[dict[str, Any]]],
) -> Handler:
    """A ``POST {key: [...]}`` endpoint answering ``{"results": [...]}``, one per item, in order.

    Bodies that are not ``{key: [item, ...]}`` get 400 with ``example``; more items than
    the maximum get 413 naming the limit (``noun`` says what the items are).
    """

    async def handle(request: Request) -> Response:
        body = await read_json(request, example)
        if isinstance(body, Response):
            return body
        items = body.get(key) if isinstance(body, dict) else None
        if not isinstance(items, list) or not all(is_item(i) for i in items):
            return error(400, f"send {example}")
        if len(items) > context.max_batch:
            return error(
                413,
                f"{len(items)} {noun} in one request; "
                f"the maximum is {context.max_batch}. Split the batch.",
            )
        context.stats.batch_requests += 1
        context.stats.spids_requested += len(items)
        return JSONResponse({"results": answer(items)})

    return handle


def spid_batch_route(
    context: SandboxContext, path: str, answer: Callable[[Sequence[str]], list[dict[str, Any]]]
) -> Route:
    """``POST path {"spids": [...]}``: the usual batch lookup by SPID."""
    handler = batch_handler(
        context,
        key="spids",
        is_item=lambda item: isinstance(item, str),
        example='{"spids": ["<spid>", ...]}',
        noun="SPIDs",
        answer=answer,
    )
    return Route(path, handler, methods=["POST"])


def spid_batch_operation(
    summary: str, name: str, schema: dict[str, Any], max_batch: int
) -> dict[str, Any]:
    """The OpenAPI of a :func:`spid_batch_route` whose results are ``{"spid", name: schema}``."""
    result = {
        "type": "object",
        "properties": {"spid": {"type": "string"}, name: schema},
        "required": ["spid", name],
    }
    return batch_operation(summary, "spids", {"type": "string"}, result, max_batch)


def openapi_document(definition: SandboxDefinition, max_batch: int) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": definition.title, "version": "1", "description": definition.description},
        "paths": definition.paths(max_batch),
    }


def batch_operation(
    summary: str, key: str, item: dict[str, Any], result: dict[str, Any], max_batch: int
) -> dict[str, Any]:
    """The OpenAPI ``post`` operation of a batch endpoint built by :func:`batch_handler`."""
    return {
        "post": {
            "summary": summary,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                key: {"type": "array", "items": item, "maxItems": max_batch}
                            },
                            "required": [key],
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "one result per item, in request order",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"results": {"type": "array", "items": result}},
                                "required": ["results"],
                            }
                        }
                    },
                },
                "400": {"description": "malformed request"},
                "413": {"description": f"more than {max_batch} items"},
            },
        }
    }


def get_operation(summary: str, parameter: str) -> dict[str, Any]:
    """The OpenAPI ``get`` operation of a one-record endpoint (404 when unknown)."""
    return {
        "get": {
            "summary": summary,
            "parameters": [
                {"name": parameter, "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {"description": "the record"},
                "404": {"description": "unknown"},
            },
        }
    }


def create_sandbox_app(
    definition: SandboxDefinition,
    database_path: str | Path,
    *,
    seed_population: Population | None = None,
    max_batch_size: int | None = None,
    faults: Faults | None = None,
    admin_token: str | None = None,
) -> FaultInjection:
    """The sandbox of ``definition`` over its own SQLite database at ``database_path``.

    ``seed_population`` is seeded first (idempotently). ``max_batch_size`` defaults to
    ``<PREFIX>_MAX_BATCH`` or 100; ``faults`` to the ``<PREFIX>_*`` variables (see
    :meth:`Faults.from_env`). With ``admin_token`` (default ``TONLE_SANDBOX_ADMIN_TOKEN``)
    ``/admin/*`` answers only ``Authorization: Bearer <token>``. The returned app's faults
    and counters are also reachable in-process as ``app.faults`` and ``app.stats``.
    """
    max_batch = max_batch_size or positive_int_env(definition.max_batch_env, DEFAULT_MAX_BATCH)
    faults = faults or Faults.from_env(definition.env_prefix)
    token = admin_token if admin_token is not None else os.environ.get(ADMIN_TOKEN_ENV)
    if seed_population is not None:
        seed_database(definition, database_path, seed_population)
    stats = Stats()
    connection = connect(database_path, definition.schema)
    context = SandboxContext(connection, max_batch, stats)
    spec = openapi_document(definition, max_batch)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def openapi(_: Request) -> Response:
        return JSONResponse(spec)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            connection.close()

    app = Starlette(
        routes=[
            *definition.routes(context),
            Route("/health", health),
            Route("/openapi.json", openapi),
            *admin_routes(faults, stats, token),
        ],
        lifespan=lifespan,
    )
    return FaultInjection(app, faults, stats)


def run_sandbox(
    definition: SandboxDefinition,
    *,
    name: str,
    port: int,
    argv: list[str] | None = None,
) -> None:
    """``python -m sandbox.<name>``: seed the database on first start and serve it."""
    import uvicorn

    parser = argparse.ArgumentParser(
        prog=f"python -m sandbox.{name}", description=f"Run the {definition.title}."
    )
    parser.add_argument("--database", type=Path, default=Path(f".tonle/{name}.db"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument(
        "--people", type=int, default=2000, help="synthetic people to seed (0: seed nothing)"
    )
    parser.add_argument("--seed", type=int, default=0, help="population seed")
    args = parser.parse_args(argv)
    population = generate_population(args.people, args.seed) if args.people > 0 else None
    app = create_sandbox_app(definition, args.database, seed_population=population)
    # On SIGTERM, calls in flight (or held by an injected hang) get the grace, then are
    # cancelled, so the process always stops.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        access_log=False,
        timeout_graceful_shutdown=grace_s(),
    )


GRACE_ENV = "TONLE_SHUTDOWN_GRACE_S"


def grace_s() -> int:
    """``TONLE_SHUTDOWN_GRACE_S`` (default 5): after SIGTERM, how long requests in flight may
    run on before they are cancelled."""
    raw = os.environ.get(GRACE_ENV, "")
    if not raw:
        return 5
    if not raw.isdigit():
        raise SystemExit(f"{GRACE_ENV}={raw!r}: give a whole number of seconds, such as 5")
    return int(raw)
