"""The writer: one chain, group commits, committed before append returns, clear failures."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text

from identity_store import create_engine, migrate, session_factory
from policies.audit import AccessLog, AccessLogUnavailable, verify, who_saw
from policies.audit.writer import WRITE_LOCK
from policies.models import AccessCheckpoint, AccessRecord, AccessSubject
from tests.policies.audit.conftest import Sessions, entry, spid


async def _count(sessions: Sessions, model: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _checkpoint_seqs(sessions: Sessions) -> list[int]:
    async with sessions() as session:
        return list(await session.scalars(select(AccessCheckpoint.seq).order_by("seq")))


async def test_appends_get_consecutive_seqs_and_a_chain_that_verifies(
    sessions: Sessions, signing_key: Ed25519PrivateKey
) -> None:
    async with AccessLog(sessions, signing_key=signing_key, checkpoint_every=8) as log:
        together = await asyncio.gather(*(log.append(entry(n)) for n in range(30)))
        one_by_one = [await log.append(entry(n)) for n in range(30, 40)]
    assert sorted(together) == list(range(1, 31))
    assert one_by_one == list(range(31, 41))
    report = await verify(sessions, signing_key.public_key())
    assert report.intact, report.findings
    assert (report.records, report.last_seq) == (40, 40)
    assert report.last_verified_checkpoint == 40  # close() signs the tail
    assert report.warnings == ()


async def test_concurrent_appends_share_one_commit(sessions: Sessions) -> None:
    async with AccessLog(sessions) as log:
        await asyncio.gather(*(log.append(entry(n)) for n in range(200)))
    assert await _count(sessions, AccessRecord) == 200
    assert 1 <= log.commits <= 3  # one commit for all that were waiting, not 200


async def test_one_commit_per_record_when_batches_hold_one(sessions: Sessions) -> None:
    # The comparison the benchmark makes; shows that the counter above counts commits.
    async with AccessLog(sessions, max_batch_records=1) as log:
        await asyncio.gather(*(log.append(entry(n)) for n in range(20)))
    assert log.commits == 20


async def test_append_returns_only_once_the_record_is_committed(database_url: str) -> None:
    await migrate(database_url)
    writer_engine, other_engine = create_engine(database_url), create_engine(database_url)
    sessions = session_factory(writer_engine)
    try:
        async with AccessLog(sessions) as log, other_engine.connect() as holder:
            # Another writer holds the access log's write lock.
            if other_engine.dialect.name == "postgresql":
                await holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK})
            else:
                await holder.exec_driver_sql("BEGIN IMMEDIATE")
            pending = asyncio.create_task(log.append(entry(1)))
            await asyncio.sleep(0.5)
            assert not pending.done()
            await holder.rollback()
            assert await asyncio.wait_for(pending, 5) == 1
            # ...and by then any other connection sees it
            async with session_factory(other_engine)() as session:
                assert await session.scalar(select(func.max(AccessRecord.seq))) == 1
    finally:
        await writer_engine.dispose()
        await other_engine.dispose()


async def test_two_writers_on_two_engines_make_one_chain_without_a_gap(database_url: str) -> None:
    await migrate(database_url)
    engines = [create_engine(database_url), create_engine(database_url)]
    logs = [AccessLog(session_factory(e), max_batch_records=7) for e in engines]
    try:
        for log in logs:
            await log.start()

        async def burst(log: AccessLog, base: int) -> list[int]:
            seqs = []
            for round_ in range(10):
                n = base + round_ * 20
                seqs += await asyncio.gather(*(log.append(entry(n + i)) for i in range(20)))
            return seqs

        first, second = await asyncio.gather(burst(logs[0], 0), burst(logs[1], 10_000))
        for log in logs:
            await log.close()
        assert sorted(first + second) == list(range(1, 401))
        report = await verify(session_factory(engines[0]))
        assert report.intact, report.findings
        assert report.records == 400
    finally:
        for e in engines:
            await e.dispose()


async def test_a_database_that_cannot_be_written_fails_every_waiting_append(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(database_url)  # never migrated: no access_log table
    caplog.set_level(logging.DEBUG)
    try:
        async with AccessLog(session_factory(engine)) as log:
            outcomes = await asyncio.gather(
                *(log.append(entry(n)) for n in range(5)), return_exceptions=True
            )
    finally:
        await engine.dispose()
    assert all(isinstance(o, AccessLogUnavailable) for o in outcomes), outcomes
    message = str(outcomes[0])
    assert "no personal data may be returned" in message
    assert "reachable, migrated to the latest revision and writable" in message
    for n in range(5):  # no SPID in the error nor in the logs
        assert spid(1000 + n) not in message
        assert spid(1000 + n) not in caplog.text
    assert "could not be written" in caplog.text


async def test_a_failed_transaction_leaves_nothing_half_written(sessions: Sessions) -> None:
    async with AccessLog(sessions) as log:
        assert await log.append(entry(1)) == 1
        # access_subject disappears: the record row is inserted, its subjects cannot be
        await _sql(sessions, "ALTER TABLE access_subject RENAME TO access_subject_away")
        with pytest.raises(AccessLogUnavailable):
            await log.append(entry(2))
        await _sql(sessions, "ALTER TABLE access_subject_away RENAME TO access_subject")
        assert await _count(sessions, AccessRecord) == 1
        assert await log.append(entry(3)) == 2  # the chain goes on without a gap
    report = await verify(sessions)
    assert report.intact and report.records == 2
    page = await who_saw(sessions, spid(1002))
    assert page.accesses == ()


async def _sql(sessions: Sessions, statement: str) -> None:
    async with sessions() as session:
        await session.execute(text(statement))
        await session.commit()


async def test_close_writes_everything_queued_then_refuses_appends(sessions: Sessions) -> None:
    log = AccessLog(sessions)
    await log.start()
    queued = [asyncio.create_task(log.append(entry(n))) for n in range(50)]
    await asyncio.sleep(0)  # every append is waiting in the queue
    await log.close()
    assert sorted(t.result() for t in queued) == list(range(1, 51))
    with pytest.raises(AccessLogUnavailable, match="closed"):
        await log.append(entry(99))


async def test_append_before_start_is_a_programming_error(sessions: Sessions) -> None:
    with pytest.raises(RuntimeError, match="start"):
        await AccessLog(sessions).append(entry(1))


async def test_a_checkpoint_is_signed_every_n_records(
    sessions: Sessions, signing_key: Ed25519PrivateKey
) -> None:
    async with AccessLog(sessions, signing_key=signing_key, checkpoint_every=4) as log:
        for n in range(10):
            await log.append(entry(n))
        assert await _checkpoint_seqs(sessions) == [4, 8]
    assert await _checkpoint_seqs(sessions) == [4, 8, 10]  # and the tail on close


async def test_a_checkpoint_is_signed_after_the_interval_when_records_were_added(
    sessions: Sessions, signing_key: Ed25519PrivateKey
) -> None:
    log = AccessLog(sessions, signing_key=signing_key, checkpoint_interval_s=0.3)
    await log.start()
    try:
        await log.append(entry(1))
        await asyncio.sleep(1.0)
        assert await _checkpoint_seqs(sessions) == [1]
        await asyncio.sleep(0.8)  # nothing new: no new checkpoint
        assert await _checkpoint_seqs(sessions) == [1]
        await log.append(entry(2))
        await asyncio.sleep(1.0)
        assert await _checkpoint_seqs(sessions) == [1, 2]
    finally:
        await log.close()


async def test_without_a_key_the_writer_warns_once_and_the_chain_still_works(
    sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="tonle.audit")
    async with AccessLog(sessions) as log:
        for n in range(3):
            await log.append(entry(n))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "no signing key" in warnings[0].getMessage()
    assert await _checkpoint_seqs(sessions) == []
    assert (await verify(sessions)).intact


async def test_a_record_of_ten_thousand_people_is_logged_whole(sessions: Sessions) -> None:
    people = tuple(spid(n) for n in range(10_000))
    async with AccessLog(sessions) as log:
        seq = await log.append(entry(1, spids=people, households=("HH-1", "HH-2")))
    assert await _count(sessions, AccessSubject) == 10_002
    assert [a.seq for a in (await who_saw(sessions, spid(9_999))).accesses] == [seq]
    assert (await verify(sessions, page_size=1)).intact
