"""Access-log throughput: appends per second with group commit against one commit per record.

For each backend (SQLite in a temporary file; PostgreSQL when reachable) and for records of
1 and of 10,000 people, it runs many concurrent appenders against a fresh, migrated
registry and measures committed appends per second with the writer's group commit, then
with ``max_batch_records=1`` (every record its own transaction, as a naive writer would).
Checkpoints are signed as in production (every 1,000 records). Entries are built before
the clock starts: building them is the gateway's work, not the log's.

    python -m bench.audit
    BENCH_AUDIT_BACKENDS=sqlite BENCH_AUDIT_SCALE=0.25 python -m bench.audit

``TONLE_BENCH_POSTGRES_URL`` (default: ``TONLE_TEST_POSTGRES_URL``, else the local test
database) names the PostgreSQL; the benchmark works in a schema of its own and drops it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event
from sqlalchemy.engine import make_url

from identity_store import create_engine, migrate, session_factory, url_with_schema
from policies.audit import AccessEntry, AccessLog, verify

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Case:
    subjects: int  # people per record
    concurrency: int  # requests appending at once
    records: int  # records per run (group commit); one commit per record runs fewer


@dataclass(frozen=True)
class Result:
    appends_per_s: float
    commits: int
    records: int


def cases(scale: float) -> list[Case]:
    return [
        Case(subjects=1, concurrency=64, records=max(64, int(8000 * scale))),
        Case(subjects=10_000, concurrency=8, records=max(8, int(80 * scale))),
    ]


def entries(case: Case, count: int) -> list[AccessEntry]:
    now = dt.datetime.now(dt.UTC)
    return [
        AccessEntry(
            at=now,
            partner="nssf",
            purpose="eligibility_check",
            end_user=f"clerk-{n % 50}",
            operation_name="ConsolidatedView",
            document_hash=f"{n % 7:064x}",
            policy_version=3,
            fields=("Person.spid", "Person.birthDate", "Person.nssfMembership"),
            spids=tuple(f"{(n * case.subjects + i) % 10**12:012d}" for i in range(case.subjects)),
            household_ids=(f"HH-{n}",),
            outcome="ok",
        )
        for n in range(count)
    ]


async def run(url: str, case: Case, group: bool, key: Ed25519PrivateKey) -> Result:
    await migrate(url)
    engine = create_engine(url)
    commits = 0

    def count(_: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", count)
    # One commit per record is slow: give it a fraction of the records.
    total = case.records if group else max(case.concurrency, case.records // 4)
    work = entries(case, total)
    log = AccessLog(session_factory(engine), signing_key=key,
                    max_batch_records=1000 if group else 1)  # fmt: skip
    await log.start()
    queue = iter(work)

    async def requests() -> None:
        for entry in queue:
            await log.append(entry)

    commits = 0
    started = time.perf_counter()
    await asyncio.gather(*(requests() for _ in range(case.concurrency)))
    elapsed = time.perf_counter() - started
    appended_commits = commits
    await log.close()
    report = await verify(session_factory(engine), key.public_key())
    assert report.intact and report.records == total, report.findings
    await engine.dispose()
    return Result(total / elapsed, appended_commits, total)


async def postgres_schema(base: str) -> str | None:
    """A fresh schema in the benchmark's PostgreSQL, or None when it cannot be reached."""
    import asyncpg  # type: ignore[import-untyped]

    dsn = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        print(f"PostgreSQL at {make_url(base).render_as_string()} not reachable ({error}); "
              "skipping it")  # fmt: skip
        return None
    schema = f"bench_audit_{uuid.uuid4().hex[:8]}"
    await connection.execute(f'CREATE SCHEMA "{schema}"')
    await connection.close()
    return schema


async def drop_schema(base: str, schema: str) -> None:
    import asyncpg

    dsn = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=5)
    await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await connection.close()


async def main_async() -> int:
    scale = float(os.environ.get("BENCH_AUDIT_SCALE", "1"))
    backends = os.environ.get("BENCH_AUDIT_BACKENDS", "sqlite,postgresql").split(",")
    base = (
        os.environ.get("TONLE_BENCH_POSTGRES_URL")
        or os.environ.get("TONLE_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES
    )
    key = Ed25519PrivateKey.generate()
    rows: list[tuple[str, Case, Result, Result]] = []
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        for backend in backends:
            for case in cases(scale):
                results = []
                for group in (True, False):
                    if backend == "sqlite":
                        path = Path(tmp) / f"{uuid.uuid4().hex}.db"
                        results.append(await run(f"sqlite+aiosqlite:///{path}", case, group, key))
                        continue
                    schema = await postgres_schema(base)
                    if schema is None:
                        break
                    try:
                        url = url_with_schema(base, schema)
                        results.append(await run(url, case, group, key))
                    finally:
                        await drop_schema(base, schema)
                if len(results) == 2:
                    rows.append((backend, case, results[0], results[1]))
                    _print_row(backend, case, results[0], results[1], header=len(rows) == 1)
    return 0


def _print_row(backend: str, case: Case, group: Result, single: Result, header: bool) -> None:
    if header:
        print(f"{'backend':<11}{'people/record':>14}{'concurrent':>11}{'group commit':>16}"
              f"{'records/commit':>16}{'commit per record':>19}{'ratio':>8}")  # fmt: skip
    per_commit = group.records / max(group.commits, 1)
    print(
        f"{backend:<11}{case.subjects:>14,}{case.concurrency:>11}"
        f"{group.appends_per_s:>12,.0f} /s{per_commit:>16.1f}"
        f"{single.appends_per_s:>15,.0f} /s{group.appends_per_s / single.appends_per_s:>7.1f}x",
        flush=True,
    )


def main() -> int:
    return asyncio.run(main_async())


if __name__ == "__main__":
    raise SystemExit(main())
