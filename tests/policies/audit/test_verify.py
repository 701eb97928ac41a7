"""Verification names what a database administrator did, by seq: changed, deleted, reordered,
or a chain recomputed after a checkpoint was signed."""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from policies.audit import AccessLog, sign_checkpoint, verify
from policies.models import AccessCheckpoint
from tests.policies.audit import tamper
from tests.policies.audit.conftest import Sessions, entry, spid


async def _log(
    sessions: Sessions,
    count: int,
    key: Ed25519PrivateKey | None = None,
    every: int = 1000,
    at: dt.datetime | None = None,
) -> None:
    # One at a time, so that checkpoints fall exactly on multiples of ``every``.
    async with AccessLog(sessions, signing_key=key, checkpoint_every=every) as log:
        for n in range(1, count + 1):
            await log.append(
                entry(n, spids=(spid(n), spid(100 + n)), households=(f"HH-{n}",), at=at)
            )
    await tamper.drop_triggers(sessions)


def _found(report) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    return [(f.seq, f.kind) for f in report.findings]


async def test_a_clean_chain_verifies(sessions: Sessions, signing_key: Ed25519PrivateKey) -> None:
    await _log(sessions, 12, signing_key, every=5)
    report = await verify(sessions, signing_key.public_key(), page_size=5)
    assert report.intact and report.findings == ()
    assert (report.records, report.checkpoints, report.verified_checkpoints) == (12, 3, 3)


async def test_a_changed_record_is_named(sessions: Sessions) -> None:
    await _log(sessions, 10)
    await tamper.sql(sessions, "UPDATE access_log SET purpose = 'statistics' WHERE seq = 5")
    report = await verify(sessions, page_size=3)
    assert _found(report) == [(5, "changed")]
    assert "record 5 was changed" in report.findings[0].message


async def test_a_subject_taken_out_of_a_record_is_a_change_to_it(sessions: Sessions) -> None:
    await _log(sessions, 10)
    await tamper.sql(sessions, f"DELETE FROM access_subject WHERE subject_id = '{spid(107)}'")
    assert _found(await verify(sessions, page_size=3)) == [(7, "changed")]


async def test_a_deleted_record_is_named(sessions: Sessions) -> None:
    await _log(sessions, 10)
    await tamper.delete(sessions, [5])
    report = await verify(sessions, page_size=3)
    assert _found(report) == [(5, "deleted")]
    assert "record 5 is missing" in report.findings[0].message


async def test_deleted_records_are_found_after_the_rest_were_renumbered(sessions: Sessions) -> None:
    await _log(sessions, 10)
    await tamper.delete(sessions, [5, 6], renumber=True)
    report = await verify(sessions, page_size=3)
    assert _found(report) == [(5, "deleted")]
    assert "record 5 does not follow record 4" in report.findings[0].message


async def test_reordered_records_are_named(sessions: Sessions) -> None:
    await _log(sessions, 10)
    await tamper.swap(sessions, 5, 6)
    report = await verify(sessions, page_size=3)
    # 5 now follows 6, 6 follows 4, and 7 follows what is now at 5
    assert _found(report) == [(5, "reordered"), (6, "reordered"), (7, "reordered")]
    assert "record 5 follows record 6, not record 4" in report.findings[0].message


async def test_a_dba_who_recomputes_the_chain_is_caught_by_the_checkpoints(
    sessions: Sessions, signing_key: Ed25519PrivateKey
) -> None:
    await _log(sessions, 12, signing_key, every=4)
    await tamper.sql(sessions, "UPDATE access_log SET partner = 'someone' WHERE seq = 6")
    await tamper.recompute_chain(sessions)
    report = await verify(sessions, signing_key.public_key(), page_size=5)
    assert _found(report) == [(8, "rewritten"), (12, "rewritten")]
    assert report.findings[0].message.startswith(
        "records 5..8 were rewritten after checkpoint 8 was signed"
    )
    # The chain alone holds together: only the checkpoints tell.
    assert all(f.kind == "rewritten" for f in (await verify(sessions)).findings)


async def test_a_checkpoint_changed_to_match_a_rewritten_chain_has_a_bad_signature(
    sessions: Sessions, signing_key: Ed25519PrivateKey
) -> None:
    await _log(sessions, 8, signing_key, every=4)
    await tamper.sql(sessions, "UPDATE access_log SET outcome = 'error' WHERE seq = 2")
    await tamper.recompute_chain(sessions)
    await tamper.sql(
        sessions,
        "UPDATE access_checkpoint SET hash = (SELECT hash FROM access_log l "
        "WHERE l.seq = access_checkpoint.seq)",
    )
    report = await verify(sessions, signing_key.public_key())
    assert _found(report) == [(4, "bad_signature"), (8, "bad_signature")]


async def test_a_checkpoint_signed_with_another_key_is_from_an_unknown_key(
    sessions: Sessions, signing_key: Ed25519PrivateKey
) -> None:
    await _log(sessions, 8, signing_key, every=4)
    await tamper.sql(sessions, "UPDATE access_log SET end_user = 'nobody' WHERE seq = 7")
    await tamper.recompute_chain(sessions)
    forger = Ed25519PrivateKey.generate()
    async with sessions() as session:
        for checkpoint in (await session.scalars(select(AccessCheckpoint))).all():
            hash = await session.scalar(
                select(tamper.LOG.c.hash).where(tamper.LOG.c.seq == checkpoint.seq)
            )
            forged = sign_checkpoint(forger, checkpoint.seq, str(hash), checkpoint.at)
            checkpoint.hash, checkpoint.key_id = forged.hash, forged.key_id
            checkpoint.signature = forged.signature
        await session.commit()
    report = await verify(sessions, signing_key.public_key())
    assert _found(report) == [(4, "unknown_key"), (8, "unknown_key")]
    # After a rotation, every key that ever signed is given: then only the forger is unknown.
    other = Ed25519PrivateKey.generate()
    report = await verify(sessions, [other.public_key(), signing_key.public_key()])
    assert _found(report) == [(4, "unknown_key"), (8, "unknown_key")]


async def test_records_deleted_from_the_end_are_caught_by_the_last_checkpoint(
    sessions: Sessions, signing_key: Ed25519PrivateKey
) -> None:
    await _log(sessions, 10, signing_key, every=5)  # checkpoints at 5 and 10
    await tamper.delete(sessions, [9, 10])
    report = await verify(sessions, signing_key.public_key())
    assert _found(report) == [(9, "deleted")]
    assert "the log ends at 8" in report.findings[0].message


async def test_old_records_that_no_checkpoint_covers_are_a_finding(
    sessions: Sessions, signing_key: Ed25519PrivateKey
) -> None:
    # The DBA rewrote the chain and deleted every checkpoint: the records stand unsigned.
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    await _log(sessions, 6, signing_key, every=3, at=old)
    await tamper.sql(sessions, "UPDATE access_log SET partner = 'someone' WHERE seq = 2")
    await tamper.recompute_chain(sessions)
    await tamper.sql(sessions, "DELETE FROM access_checkpoint")
    report = await verify(sessions, signing_key.public_key())
    assert _found(report) == [(1, "unsigned")]
    # Recent unsigned records are only a warning: the next checkpoint is due soon.
    recent = await verify(sessions, signing_key.public_key(), unsigned_grace=dt.timedelta(days=1))
    assert recent.intact and "records 1..6 are not yet covered" in recent.warnings[0]


async def test_without_a_public_key_the_report_says_what_it_could_not_check(
    sessions: Sessions, signing_key: Ed25519PrivateKey
) -> None:
    await _log(sessions, 3, signing_key)
    report = await verify(sessions)
    assert report.intact
    assert "checkpoint signatures were not checked" in report.warnings[0]


async def test_findings_are_capped_but_all_counted(sessions: Sessions) -> None:
    await _log(sessions, 10)
    await tamper.sql(sessions, "UPDATE access_log SET purpose = 'statistics'")
    report = await verify(sessions, max_findings=3)
    assert [f.seq for f in report.findings] == [1, 2, 3]
    assert report.total_findings == 10 and not report.intact
