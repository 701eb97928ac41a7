"""The IDPoor sandbox: a REST stand-in for the Ministry of Planning's IDPoor system."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.idpoor import store
from sandbox.service import (
    SandboxContext,
    SandboxDefinition,
    batch_handler,
    batch_operation,
    error,
    get_operation,
    spid_batch_operation,
    spid_batch_route,
)

HOUSEHOLD = {
    "type": "object",
    "properties": {
        "household_id": {"type": "string"},
        "village_code": {"type": "string", "pattern": "^[0-9]{8}$"},
        "level": {"type": "integer", "enum": [1, 2], "description": "1 very poor, 2 poor"},
        "equity_card_number": {"type": "string"},
        "valid_from": {"type": "string", "format": "date"},
        "valid_until": {"type": "string", "format": "date"},
        "round": {"type": "string", "enum": ["regular", "on_demand"]},
        "member_spids": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["household_id", "level", "equity_card_number", "valid_from", "valid_until"],
}
NULLABLE_HOUSEHOLD = {"oneOf": [HOUSEHOLD, {"type": "null"}]}


def _routes(context: SandboxContext) -> list[BaseRoute]:
    connection = context.connection

    def by_member(spids: Sequence[str]) -> list[dict[str, Any]]:
        found = store.households_of(connection, spids)
        return [{"spid": s, "household": found.get(s)} for s in spids]

    def by_id(ids: Sequence[str]) -> list[dict[str, Any]]:
        found = store.households(connection, ids)
        return [{"household_id": i, "household": found.get(i)} for i in ids]

    async def one_household(request: Request) -> Response:
        household_id = request.path_params["household_id"]
        found = store.households(connection, [household_id]).get(household_id)
        return error(404, "no such household") if found is None else JSONResponse(found)

    return [
        spid_batch_route(context, "/v1/households/by-member", by_member),
        Route(
            "/v1/households/by-id",
            batch_handler(
                context,
                key="household_ids",
                is_item=lambda item: isinstance(item, str),
                example='{"household_ids": ["<household id>", ...]}',
                noun="household IDs",
                answer=by_id,
            ),
            methods=["POST"],
        ),
        Route("/v1/households/{household_id}", one_household),
    ]


def _paths(max_batch: int) -> dict[str, Any]:
    return {
        "/v1/households/by-member": spid_batch_operation(
            "The identified-poor household of each SPID, in request order (null when not poor)",
            "household",
            NULLABLE_HOUSEHOLD,
            max_batch,
        ),
        "/v1/households/by-id": batch_operation(
            "Households by ID with their members, in request order (null when unknown)",
            "household_ids",
            {"type": "string"},
            {
                "type": "object",
                "properties": {
                    "household_id": {"type": "string"},
                    "household": NULLABLE_HOUSEHOLD,
                },
            },
            max_batch,
        ),
        "/v1/households/{household_id}": get_operation(
            "One household with its members", "household_id"
        ),
    }


IDPOOR = SandboxDefinition(
    title="IDPoor sandbox",
    description="Stand-in for the Ministry of Planning's IDPoor system: identified-poor "
    "households, looked up by members' SPIDs or by household ID.",
    env_prefix="TONLE_IDPOOR",
    schema=store.SCHEMA,
    count_sql=store.COUNT,
    insert=store.insert,
    routes=_routes,
    paths=_paths,
)


seed = IDPOOR.seed
create_app = IDPOOR.create_app
