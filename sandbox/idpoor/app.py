"""The IDPoor sandbox: a REST stand-in for the Ministry of Planning's IDPoor system."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.faults import FaultInjection, Faults, Stats, admin_routes
from sandbox.idpoor import store
from sandbox.population import Population

DEFAULT_MAX_BATCH = 100
MAX_BATCH_ENV = "TONLE_IDPOOR_MAX_BATCH"


def _positive_int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name}={raw!r}: give a whole number of SPIDs, at least 1")
    return int(raw)


def openapi(max_batch: int) -> dict[str, Any]:
    """The OpenAPI 3.1 description of the sandbox's public endpoints."""
    household = {
        "type": "object",
        "properties": {
            "household_id": {"type": "string"},
            "village_code": {"type": "string", "pattern": "^[0-9]{8}$"},
            "level": {"type": "integer", "enum": [1, 2], "description": "1 very poor, 2 poor"},
            "equity_card_number": {"type": "string"},
            "valid_from": {"type": "string", "format": "date"},
            "valid_until": {"type": "string", "format": "date"},
            "round": {"type": "string", "enum": ["regular", "on_demand"]},
        },
        "required": ["household_id", "level", "equity_card_number", "valid_from", "valid_until"],
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "IDPoor sandbox",
            "version": "1",
            "description": "Stand-in for the Ministry of Planning's IDPoor system: "
            "identified-poor households, looked up by members' SPIDs.",
        },
        "paths": {
            "/v1/households/by-member": {
                "post": {
                    "summary": "The identified-poor household of each SPID, in request order",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "spids": {
                                            "type": "array",
                                            "items": {"type": "string"},
                                            "maxItems": max_batch,
                                        }
                                    },
                                    "required": ["spids"],
                                }
                            }
                        }
                    },
                    "responses": {
                        "200": {
                            "description": "one result per SPID; household null when not poor",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "results": {
                                                "type": "array",
                                                "items": {
                                                    "type": "object",
                                                    "properties": {
                                                        "spid": {"type": "string"},
                                                        "household": {
                                                            "oneOf": [household, {"type": "null"}]
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    }
                                }
                            },
                        },
                        "400": {"description": "malformed request"},
                        "413": {"description": f"more than {max_batch} SPIDs"},
                    },
                }
            },
            "/v1/households/{household_id}": {
                "get": {
                    "summary": "One household with its members",
                    "parameters": [
                        {
                            "name": "household_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {"description": "the household"},
                        "404": {"description": "unknown"},
                    },
                }
            },
        },
    }


def create_app(
    database_path: str | Path,
    *,
    seed_population: Population | None = None,
    max_batch_size: int | None = None,
    faults: Faults | None = None,
) -> FaultInjection:
    """The IDPoor sandbox over its own SQLite database at ``database_path``.

    ``seed_population`` is seeded first (idempotently). ``max_batch_size`` defaults to
    ``TONLE_IDPOOR_MAX_BATCH`` or 100; ``faults`` to the ``TONLE_IDPOOR_*`` variables
    (see :meth:`Faults.from_env`). The returned app's faults and counters are also
    reachable in-process as ``app.faults`` and ``app.stats``.
    """
    max_batch = max_batch_size or _positive_int_env(MAX_BATCH_ENV, DEFAULT_MAX_BATCH)
    faults = faults or Faults.from_env("TONLE_IDPOOR")
    if seed_population is not None:
        store.seed(database_path, seed_population)
    stats = Stats()
    connection = store.connect(database_path)

    async def by_member(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        spids = body.get("spids") if isinstance(body, dict) else None
        if not isinstance(spids, list) or not all(isinstance(s, str) for s in spids):
            return JSONResponse({"error": 'send {"spids": ["<spid>", ...]}'}, status_code=400)
        if len(spids) > max_batch:
            return JSONResponse(
                {
                    "error": f"{len(spids)} SPIDs in one request; the maximum is {max_batch}. "
                    "Split the batch."
                },
                status_code=413,
            )
        stats.batch_requests += 1
        stats.spids_requested += len(spids)
        found = store.households_of(connection, spids)
        return JSONResponse({"results": [{"spid": s, "household": found.get(s)} for s in spids]})

    async def one_household(request: Request) -> Response:
        found = store.household(connection, request.path_params["household_id"])
        if found is None:
            return JSONResponse({"error": "no such household"}, status_code=404)
        return JSONResponse(found)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def spec(_: Request) -> Response:
        return JSONResponse(openapi(max_batch))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            connection.close()

    app = Starlette(
        routes=[
            Route("/v1/households/by-member", by_member, methods=["POST"]),
            Route("/v1/households/{household_id}", one_household),
            Route("/health", health),
            Route("/openapi.json", spec),
            *admin_routes(faults, stats),
        ],
        lifespan=lifespan,
    )
    return FaultInjection(app, faults, stats)
