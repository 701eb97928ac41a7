"""The MoI sandbox: a stand-in for the Ministry of Interior's Khmer ID verification service.

It answers whether a Khmer ID exists and matches a name and birth date — match,
mismatch (naming the fields that differ) or not found — and never returns the record.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.routing import BaseRoute, Route

from sandbox.moi.records import KhmerIdRecord, khmer_id_records, same_name
from sandbox.population import Population
from sandbox.service import (
    SandboxContext,
    SandboxDefinition,
    batch_handler,
    batch_operation,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS khmer_id (
    khmer_id TEXT PRIMARY KEY,
    family_name TEXT NOT NULL,
    given_name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL
);
"""
FIELDS = ("family_name", "given_name", "birth_date")
CHECK = {
    "type": "object",
    "properties": {
        "khmer_id": {"type": "string", "pattern": "^[0-9]{9}$"},
        "family_name": {"type": "string"},
        "given_name": {"type": "string"},
        "birth_date": {"type": "string", "format": "date"},
    },
    "required": ["khmer_id", *FIELDS],
}
RESULT = {
    "type": "object",
    "properties": {
        "khmer_id": {"type": "string"},
        "result": {"type": "string", "enum": ["match", "mismatch", "not_found"]},
        "mismatches": {"type": "array", "items": {"type": "string", "enum": list(FIELDS)}},
    },
    "required": ["khmer_id", "result", "mismatches"],
}


def _is_check(item: object) -> bool:
    if not isinstance(item, dict) or not all(
        isinstance(item.get(k), str) for k in ("khmer_id", *FIELDS)
    ):
        return False
    try:
        dt.date.fromisoformat(item["birth_date"])
    except ValueError:
        return False
    return True


def _insert(connection: sqlite3.Connection, records: Population | Iterable[KhmerIdRecord]) -> None:
    rows = khmer_id_records(records) if isinstance(records, Population) else records
    connection.executemany(
        "INSERT OR IGNORE INTO khmer_id VALUES (?, ?, ?, ?, ?)",
        [(r.khmer_id, r.family_name, r.given_name, r.birth_date.isoformat(), r.sex) for r in rows],
    )


def verify(record: sqlite3.Row | None, check: dict[str, str]) -> dict[str, Any]:
    """One verification answer: never any of the record's values, only what differs."""
    if record is None:
        return {"khmer_id": check["khmer_id"], "result": "not_found", "mismatches": []}
    mismatches = [
        name for name in ("family_name", "given_name") if not same_name(record[name], check[name])
    ]
    if record["birth_date"] != dt.date.fromisoformat(check["birth_date"]).isoformat():
        mismatches.append("birth_date")
    return {
        "khmer_id": check["khmer_id"],
        "result": "mismatch" if mismatches else "match",
        "mismatches": mismatches,
    }


def _routes(context: SandboxContext) -> list[BaseRoute]:
    def verify_all(checks: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
        ids = sorted({c["khmer_id"] for c in checks})
        records: dict[str, sqlite3.Row] = {}
        if ids:
            marks = ",".join("?" * len(ids))
            for row in context.connection.execute(
                f"SELECT * FROM khmer_id WHERE khmer_id IN ({marks})", ids
            ):
                records[row["khmer_id"]] = row
        return [verify(records.get(c["khmer_id"]), c) for c in checks]

    return [
        Route(
            "/v1/verifications",
            batch_handler(
                context,
                key="checks",
                is_item=_is_check,
                example='{"checks": [{"khmer_id", "family_name", "given_name", '
                '"birth_date": "YYYY-MM-DD"}, ...]}',
                noun="checks",
                answer=verify_all,
            ),
            methods=["POST"],
        )
    ]


def _paths(max_batch: int) -> dict[str, Any]:
    return {
        "/v1/verifications": batch_operation(
            "Verify Khmer IDs against names and birth dates, in request order; "
            "the MoI record itself is never returned",
            "checks",
            CHECK,
            RESULT,
            max_batch,
        )
    }


MOI = SandboxDefinition(
    title="MoI sandbox",
    description="Stand-in for the Ministry of Interior's Khmer ID verification service: "
    "match, mismatch per field, or not found. It never returns the record.",
    env_prefix="TONLE_MOI",
    schema=SCHEMA,
    count_sql="SELECT count(*) FROM khmer_id",
    insert=_insert,
    routes=_routes,
    paths=_paths,
)


seed = MOI.seed
create_app = MOI.create_app
