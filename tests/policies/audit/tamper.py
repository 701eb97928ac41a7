"""What a database administrator could do to the access log, as a test would do it.

They first drop the append-only triggers (a DBA owns them), then change rows with plain SQL;
``recompute_chain`` rewrites every hash from a record on, with the documented algorithm.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from policies.audit import GENESIS_HASH, record_hash
from policies.audit.records import entry_from_row
from policies.models import PolicyBase

Sessions = async_sessionmaker[AsyncSession]

TABLES = ("access_log", "access_subject", "access_checkpoint")
LOG = PolicyBase.metadata.tables["access_log"]
SUBJECTS = PolicyBase.metadata.tables["access_subject"]


async def drop_triggers(sessions: Sessions) -> None:
    async with sessions() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        for table in TABLES:
            names = (
                (f"{table}_append_only", f"{table}_no_truncate")
                if postgres
                else (f"{table}_no_update", f"{table}_no_delete")
            )
            for name in names:
                on = f" ON {table}" if postgres else ""
                await session.execute(text(f"DROP TRIGGER {name}{on}"))
        await session.commit()


async def sql(sessions: Sessions, statement: str, **params: Any) -> None:
    async with sessions() as session:
        await session.execute(text(statement), params)
        await session.commit()


async def records(sessions: Sessions) -> list[dict[str, Any]]:
    """Every access_log row with its subjects, by seq (read through the models' types)."""
    async with sessions() as session:
        rows = [
            dict(r) for r in (await session.execute(LOG.select().order_by(LOG.c.seq))).mappings()
        ]
        subjects = list(await session.execute(SUBJECTS.select()))
    for row in rows:
        row["subjects"] = sorted((k, s) for q, k, s in subjects if q == row["seq"])
    return rows


async def _write_back(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    table, subjects = LOG, SUBJECTS
    for row in rows:
        values = {k: v for k, v in row.items() if k != "subjects"}
        await session.execute(table.insert().values(**values))
        for kind, subject_id in row["subjects"]:
            await session.execute(
                subjects.insert().values(seq=row["seq"], kind=kind, subject_id=subject_id)
            )


async def delete(sessions: Sessions, seqs: list[int], *, renumber: bool = False) -> None:
    """Delete records (and their subjects); with ``renumber``, close the gap behind them."""
    rows = await records(sessions)
    kept = [r for r in rows if r["seq"] not in seqs]
    if renumber:
        for number, row in enumerate(kept, start=1):
            row["seq"] = number
    async with sessions() as session:
        await session.execute(text("DELETE FROM access_subject"))
        await session.execute(text("DELETE FROM access_log"))
        await _write_back(session, kept)
        await session.commit()


async def swap(sessions: Sessions, a: int, b: int) -> None:
    """Swap the places of records ``a`` and ``b``: each keeps its content, hashes and subjects."""
    rows = await records(sessions)
    by_seq = {r["seq"]: r for r in rows}
    by_seq[a]["seq"], by_seq[b]["seq"] = b, a
    async with sessions() as session:
        await session.execute(
            text("DELETE FROM access_subject WHERE seq IN (:a, :b)"), {"a": a, "b": b}
        )
        await session.execute(
            text("DELETE FROM access_log WHERE seq IN (:a, :b)"), {"a": a, "b": b}
        )
        await _write_back(session, [by_seq[a], by_seq[b]])
        await session.commit()


async def recompute_chain(sessions: Sessions) -> None:
    """Rewrite every record's prev_hash and hash so that the chain holds together again."""
    prev = GENESIS_HASH
    async with sessions() as session:
        for row in await records(sessions):
            hash = record_hash(prev, entry_from_row(row, row["subjects"]))
            await session.execute(
                text("UPDATE access_log SET prev_hash = :prev, hash = :hash WHERE seq = :seq"),
                {"prev": prev, "hash": hash, "seq": row["seq"]},
            )
            prev = hash
        await session.commit()
