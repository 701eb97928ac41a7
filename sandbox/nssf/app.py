"""The NSSF sandbox: a REST stand-in for the National Social Security Fund's member system."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.nssf.records import SCHEMES, NssfMember, nssf_members
from sandbox.population import Population
from sandbox.service import (
    SandboxContext,
    SandboxDefinition,
    error,
    get_operation,
    spid_batch_operation,
    spid_batch_route,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS employer (
    employer_id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS member (
    member_id TEXT PRIMARY KEY,
    spid TEXT NOT NULL UNIQUE,
    employer_id TEXT NOT NULL REFERENCES employer (employer_id),
    schemes TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'terminated')),
    months_of_contributions INTEGER NOT NULL,
    last_contribution_date TEXT NOT NULL
);
"""

MEMBER = {
    "type": "object",
    "properties": {
        "member_id": {"type": "string"},
        "employer": {
            "type": "object",
            "properties": {"employer_id": {"type": "string"}, "name": {"type": "string"}},
        },
        "schemes": {"type": "array", "items": {"type": "string", "enum": list(SCHEMES)}},
        "status": {"type": "string", "enum": ["active", "suspended", "terminated"]},
        "months_of_contributions": {"type": "integer", "minimum": 0},
        "last_contribution_date": {"type": "string", "format": "date"},
    },
    "required": ["member_id", "employer", "schemes", "status"],
}


def _insert(connection: sqlite3.Connection, records: Population | Iterable[NssfMember]) -> None:
    members = nssf_members(records) if isinstance(records, Population) else records
    for m in members:
        connection.execute(
            "INSERT OR IGNORE INTO employer VALUES (?, ?)", (m.employer_id, m.employer_name)
        )
        connection.execute(
            "INSERT OR IGNORE INTO member VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                m.member_id,
                m.spid,
                m.employer_id,
                json.dumps(m.schemes),
                m.status,
                m.months_of_contributions,
                m.last_contribution_date.isoformat(),
            ),
        )


def _member(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "member_id": row["member_id"],
        "employer": {"employer_id": row["employer_id"], "name": row["name"]},
        "schemes": json.loads(row["schemes"]),
        "status": row["status"],
        "months_of_contributions": row["months_of_contributions"],
        "last_contribution_date": row["last_contribution_date"],
    }


def _members(connection: sqlite3.Connection, column: str, values: Sequence[str]) -> dict[str, Any]:
    if not values:
        return {}
    marks = ",".join("?" * len(values))
    rows = connection.execute(
        f"SELECT m.*, e.name FROM member m JOIN employer e USING (employer_id) "
        f"WHERE m.{column} IN ({marks})",
        list(values),
    )
    return {row[column]: _member(row) for row in rows}


def _routes(context: SandboxContext) -> list[BaseRoute]:
    def by_spid(spids: Sequence[str]) -> list[dict[str, Any]]:
        found = _members(context.connection, "spid", spids)
        return [{"spid": s, "member": found.get(s)} for s in spids]

    async def one_member(request: Request) -> Response:
        member_id = request.path_params["member_id"]
        found = _members(context.connection, "member_id", [member_id]).get(member_id)
        return error(404, "no such member") if found is None else JSONResponse(found)

    return [
        spid_batch_route(context, "/v1/members/by-spid", by_spid),
        Route("/v1/members/{member_id}", one_member),
    ]


def _paths(max_batch: int) -> dict[str, Any]:
    return {
        "/v1/members/by-spid": spid_batch_operation(
            "The NSSF membership of each SPID, in request order (null when not a member)",
            "member",
            {"oneOf": [MEMBER, {"type": "null"}]},
            max_batch,
        ),
        "/v1/members/{member_id}": get_operation("One member by NSSF member ID", "member_id"),
    }


NSSF = SandboxDefinition(
    title="NSSF sandbox",
    description="Stand-in for the National Social Security Fund's system: members, "
    "employers, schemes (occupational risk, health care, pension) and contributions.",
    env_prefix="TONLE_NSSF",
    schema=SCHEMA,
    count_sql="SELECT count(*) FROM member",
    insert=_insert,
    routes=_routes,
    paths=_paths,
)


seed = NSSF.seed
create_app = NSSF.create_app
