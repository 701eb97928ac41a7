"""A writer killed with SIGKILL in the middle of its appends leaves a chain that verifies."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from sqlalchemy import func, select

from policies.audit import AccessLog, generate_key_pair, load_signing_key, verify
from policies.models import AccessRecord
from tests.policies.audit.conftest import Sessions, entry

ROOT = Path(__file__).parents[3]


async def test_a_writer_killed_mid_append_leaves_a_whole_chain_without_a_gap(
    sessions: Sessions, database_url: str, tmp_path: Path
) -> None:
    keys = generate_key_pair(tmp_path / "keys")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.policies.audit.appender",
        database_url,
        cwd=ROOT,
        env={**os.environ, "TONLE_AUDIT_SIGNING_KEY": str(keys.private)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    acknowledged: list[int] = []
    try:
        while len(acknowledged) < 150:
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line, "the appender stopped by itself"
            acknowledged.append(int(line))
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    assert process.returncode == -signal.SIGKILL

    key = load_signing_key(keys.private)
    report = await verify(sessions, key.public_key())
    assert report.intact, report.findings
    # Every append that returned is there (committed), and nothing beyond whole records.
    assert report.last_seq >= max(acknowledged)
    assert report.records == report.last_seq
    assert report.verified_checkpoints >= 2  # checkpoints every 50 records

    # A new writer carries on the same chain.
    async with AccessLog(sessions, signing_key=key) as log:
        assert await log.append(entry(1)) == report.last_seq + 1
    again = await verify(sessions, key.public_key())
    assert again.intact and again.last_verified_checkpoint == report.last_seq + 1
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AccessRecord)) == again.records
