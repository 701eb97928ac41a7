"""The PCA sandbox: a stand-in for the Payment Certification Authority's payment records."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.routing import BaseRoute

from sandbox.pca.records import PROGRAMMES, CertifiedPayment, certified_payments
from sandbox.population import Population
from sandbox.service import (
    SandboxContext,
    SandboxDefinition,
    spid_batch_operation,
    spid_batch_route,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS payment (
    payment_id TEXT PRIMARY KEY,
    spid TEXT NOT NULL,
    programme TEXT NOT NULL,
    period TEXT NOT NULL,
    amount_khr INTEGER NOT NULL CHECK (amount_khr >= 0),
    certified_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('certified', 'pending', 'rejected'))
);
CREATE INDEX IF NOT EXISTS payment_spid ON payment (spid, period);
"""
COLUMNS = ("payment_id", "programme", "period", "amount_khr", "certified_at", "status")
PAYMENT = {
    "type": "object",
    "properties": {
        "payment_id": {"type": "string"},
        "programme": {"type": "string", "enum": list(PROGRAMMES)},
        "period": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
        "amount_khr": {"type": "integer", "minimum": 0},
        "certified_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": ["certified", "pending", "rejected"]},
    },
    "required": ["payment_id", "programme", "period", "amount_khr", "certified_at", "status"],
}


def _insert(
    connection: sqlite3.Connection, records: Population | Iterable[CertifiedPayment]
) -> None:
    payments = certified_payments(records) if isinstance(records, Population) else records
    connection.executemany(
        "INSERT OR IGNORE INTO payment VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                p.payment_id,
                p.spid,
                p.programme,
                p.period,
                p.amount_khr,
                p.certified_at.isoformat(),
                p.status,
            )
            for p in payments
        ],
    )


def _routes(context: SandboxContext) -> list[BaseRoute]:
    def by_beneficiary(spids: Sequence[str]) -> list[dict[str, Any]]:
        found: dict[str, list[dict[str, Any]]] = {s: [] for s in spids}
        if spids:
            marks = ",".join("?" * len(found))
            for row in context.connection.execute(
                f"SELECT * FROM payment WHERE spid IN ({marks}) ORDER BY spid, period, programme",
                list(found),
            ):
                found[row["spid"]].append({k: row[k] for k in COLUMNS})
        return [{"spid": s, "payments": found[s]} for s in spids]

    return [spid_batch_route(context, "/v1/payments/by-beneficiary", by_beneficiary)]


def _paths(max_batch: int) -> dict[str, Any]:
    return {
        "/v1/payments/by-beneficiary": spid_batch_operation(
            "The payments certified for each SPID, in request order (empty when none)",
            "payments",
            {"type": "array", "items": PAYMENT},
            max_batch,
        )
    }


PCA = SandboxDefinition(
    title="PCA sandbox",
    description="Stand-in for the Payment Certification Authority's system: benefit "
    "payments certified per beneficiary, programme and period, in riel (KHR).",
    env_prefix="TONLE_PCA",
    schema=SCHEMA,
    count_sql="SELECT count(*) FROM payment",
    insert=_insert,
    routes=_routes,
    paths=_paths,
)


seed = PCA.seed
create_app = PCA.create_app
