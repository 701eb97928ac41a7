"""Verifying the access log: recompute the chain, check every checkpoint, say what broke.

It pages through the log in seq order (records, their subjects and the checkpoints, each by
keyset pagination in short read transactions), so memory stays constant whatever the size
of the log: millions of records are read a page at a time.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from policies.audit.checkpoint import Checkpoint
from policies.audit.entry import AccessEntry
from policies.audit.records import entry_from_row, utc
from policies.audit.report import VerifyReport
from policies.audit.walk import ChainWalk
from policies.models import AccessCheckpoint, AccessRecord, AccessSubject

Sessions = async_sessionmaker[AsyncSession]

_LOG = AccessRecord.metadata.tables["access_log"]
_SUBJECTS = AccessSubject.metadata.tables["access_subject"]
_CHECKPOINTS = AccessCheckpoint.metadata.tables["access_checkpoint"]

DEFAULT_UNSIGNED_GRACE = dt.timedelta(hours=1)


async def verify(
    sessions: Sessions,
    public_key: Ed25519PublicKey | Sequence[Ed25519PublicKey] | None = None,
    *,
    now: dt.datetime | None = None,
    unsigned_grace: dt.timedelta = DEFAULT_UNSIGNED_GRACE,
    page_size: int = 1000,
    max_findings: int = 1000,
) -> VerifyReport:
    """Check the whole access log against itself and against the signed checkpoints.

    ``public_key`` may be several keys (every key that signed since the log began, after a
    rotation). Without one, signatures are not checked and the report says so. Records
    that no valid checkpoint covers are a finding once the first of them is older than
    ``unsigned_grace`` (a writer with a key signs at least every minute by default).
    """
    if public_key is None:
        keys: list[Ed25519PublicKey] = []
    elif isinstance(public_key, Ed25519PublicKey):
        keys = [public_key]
    else:
        keys = list(public_key)
    async with sessions() as session:
        # One statement, one snapshot: a checkpoint past the last record is then a
        # truncation, never a writer that committed between two reads.
        last_seq, last_checkpoint = (
            await session.execute(
                select(
                    select(func.max(_LOG.c.seq)).scalar_subquery(),
                    select(func.max(_CHECKPOINTS.c.seq)).scalar_subquery(),
                )
            )
        ).one()
    walk = ChainWalk(keys, max_findings=max_findings)
    subjects = _Subjects(sessions, last_seq or 0, page_size * 10)
    checkpoints = _Checkpoints(sessions, last_checkpoint or 0, page_size)
    async for row in _records(sessions, last_seq or 0, page_size):
        pairs = await subjects.of(row["seq"])
        walk.record(row["seq"], row["prev_hash"], row["hash"], _entry(row, pairs))
        async for checkpoint in checkpoints.until(row["seq"]):
            walk.checkpoint(checkpoint)
    async for checkpoint in checkpoints.until(None):
        walk.checkpoint(checkpoint)
    wanted = walk.wanted_hashes()
    if wanted:
        walk.resolve(await _seqs_of(sessions, wanted, last_seq or 0, page_size * 10))
    return walk.report(now or dt.datetime.now(dt.UTC), unsigned_grace)


def _entry(row: dict[str, Any], pairs: list[tuple[str, str]]) -> AccessEntry | None:
    if any(kind not in ("person", "household") for kind, _ in pairs):
        return None
    try:
        return entry_from_row(row, pairs)
    except (ValueError, TypeError, KeyError):
        return None  # a row no writer could have written: it was changed


async def _records(sessions: Sessions, upto: int, page: int) -> AsyncIterator[dict[str, Any]]:
    after = 0
    while True:
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(_LOG)
                    .where(_LOG.c.seq > after, _LOG.c.seq <= upto)
                    .order_by(_LOG.c.seq)
                    .limit(page)
                )
            ).mappings()
            batch = [dict(row) for row in rows]
        for row in batch:
            yield row
        if len(batch) < page:
            return
        after = batch[-1]["seq"]


class _Subjects:
    """access_subject in (seq, kind, subject_id) order, a page at a time."""

    def __init__(self, sessions: Sessions, upto: int, page: int) -> None:
        self._sessions = sessions
        self._upto = upto
        self._page = page
        self._buffer: deque[tuple[int, str, str]] = deque()
        self._after: tuple[int, str, str] | None = None
        self._exhausted = False

    async def of(self, seq: int) -> list[tuple[str, str]]:
        """The (kind, subject_id) pairs of record ``seq``, skipping those of missing records."""
        found: list[tuple[str, str]] = []
        while True:
            buffer = self._buffer
            while buffer and buffer[0][0] < seq:
                buffer.popleft()
            while buffer and buffer[0][0] == seq:
                _, kind, subject_id = buffer.popleft()
                found.append((kind, subject_id))
            if buffer or self._exhausted:
                return found
            await self._fetch()

    async def _fetch(self) -> None:
        c = _SUBJECTS.c
        query = select(c.seq, c.kind, c.subject_id).where(c.seq <= self._upto)
        if self._after is not None:
            seq, kind, subject_id = self._after
            # seq >= repeats the row comparison's first term so that any planner ranges
            # over the primary key's index.
            query = query.where(
                c.seq >= seq, tuple_(c.seq, c.kind, c.subject_id) > tuple_(seq, kind, subject_id)
            )
        query = query.order_by(c.seq, c.kind, c.subject_id).limit(self._page)
        async with self._sessions() as session:
            rows = [(r.seq, r.kind, r.subject_id) for r in await session.execute(query)]
        self._buffer.extend(rows)
        if rows:
            self._after = rows[-1]
        self._exhausted = len(rows) < self._page


class _Checkpoints:
    """access_checkpoint in seq order, a page at a time."""

    def __init__(self, sessions: Sessions, upto: int, page: int) -> None:
        self._sessions = sessions
        self._upto = upto
        self._page = page
        self._buffer: deque[Checkpoint] = deque()
        self._after = 0
        self._exhausted = upto == 0

    async def until(self, seq: int | None) -> AsyncIterator[Checkpoint]:
        """The checkpoints not given yet whose seq is at most ``seq`` (None: all of them)."""
        while True:
            while self._buffer and (seq is None or self._buffer[0].seq <= seq):
                yield self._buffer.popleft()
            if self._buffer or self._exhausted:
                return
            await self._fetch()

    async def _fetch(self) -> None:
        c = _CHECKPOINTS.c
        query = (
            select(_CHECKPOINTS)
            .where(c.seq > self._after, c.seq <= self._upto)
            .order_by(c.seq)
            .limit(self._page)
        )
        async with self._sessions() as session:
            rows = list(await session.execute(query))
        for r in rows:
            self._buffer.append(Checkpoint(r.seq, r.hash, utc(r.at), r.key_id, r.signature))
        if rows:
            self._after = rows[-1].seq
        self._exhausted = len(rows) < self._page


async def _seqs_of(sessions: Sessions, hashes: set[str], upto: int, page: int) -> dict[str, int]:
    """Which records have these hashes: one more pass over (seq, hash), no index needed."""
    found: dict[str, int] = {}
    after = 0
    while True:
        async with sessions() as session:
            rows = list(
                await session.execute(
                    select(_LOG.c.seq, _LOG.c.hash)
                    .where(_LOG.c.seq > after, _LOG.c.seq <= upto)
                    .order_by(_LOG.c.seq)
                    .limit(page)
                )
            )
        for row in rows:
            if row.hash in hashes:
                found.setdefault(row.hash, row.seq)
        if len(rows) < page:
            return found
        after = rows[-1].seq
