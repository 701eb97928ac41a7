"""The access log's writer: one record per request, committed before the response leaves.

Appends wait in a queue; one background task takes everything waiting and writes it in one
transaction (group commit), so a thousand concurrent requests share a few commits instead
of queueing for a thousand. Several gateway processes may write to one database: each
transaction first takes the access log's write lock (a PostgreSQL advisory lock, or SQLite's
``BEGIN IMMEDIATE``), then reads the last record, so the chain stays one chain with no gap.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import sqlite3
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from policies.audit.chain import canonical, chain_hash
from policies.audit.checkpoint import key_id, sign_checkpoint
from policies.audit.entry import AccessEntry
from policies.audit.errors import AccessLogUnavailable
from policies.audit.keys import SIGNING_KEY_ENV, signing_key_from_env
from policies.audit.records import record_row, subject_rows
from policies.audit.transactions import (
    CoreTransaction,
    SqliteTransaction,
    Transaction,
    sqlite_connection,
)

log = logging.getLogger("tonle.audit")

Sessions = async_sessionmaker[AsyncSession]

# A fixed bigint: the advisory lock every writer of the access log takes (PostgreSQL).
WRITE_LOCK = int.from_bytes(
    hashlib.blake2b(b"tonle:access-log", digest_size=8).digest(), "big", signed=True
)


@dataclass(frozen=True)
class _SqliteWriter:
    """The SQLite file's own connection for the writer, used from one thread only."""

    connection: sqlite3.Connection
    thread: ThreadPoolExecutor

    @classmethod
    def of(cls, engine: AsyncEngine) -> _SqliteWriter:
        path = engine.url.database
        if not path or path == ":memory:":
            raise ValueError("the access log needs a SQLite file, not an in-memory database")
        return cls(
            sqlite_connection(path),
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="access-log"),
        )

    def close(self) -> None:
        self.thread.shutdown(wait=True)
        self.connection.close()


@dataclass
class _Waiting:
    entry: AccessEntry
    done: asyncio.Future[int]


class AccessLog:
    """The gateway's access-log writer: ``await log.append(entry)`` returns once committed.

    ``signing_key`` signs a checkpoint every ``checkpoint_every`` records, and every
    ``checkpoint_interval_s`` seconds when records were added since the last one, and
    when the log closes. Without a key the chain is written all the same, unsigned.
    ``max_batch_records`` and ``max_batch_subjects`` bound one group commit; with
    ``max_batch_records=1`` every record is its own transaction (for comparison only).
    """

    def __init__(
        self,
        sessions: Sessions,
        *,
        signing_key: Ed25519PrivateKey | None = None,
        checkpoint_every: int = 1000,
        checkpoint_interval_s: float = 60.0,
        max_batch_records: int = 1000,
        max_batch_subjects: int = 200_000,
    ) -> None:
        if checkpoint_every < 1 or checkpoint_interval_s <= 0:
            raise ValueError("checkpoints need checkpoint_every >= 1 and an interval > 0")
        if max_batch_records < 1 or max_batch_subjects < 1:
            raise ValueError("a batch holds at least one record")
        self._sessions = sessions
        bind = sessions.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise ValueError("the access log needs sessions bound to an engine")
        self._engine = bind
        self._sqlite = _SqliteWriter.of(bind) if bind.dialect.name == "sqlite" else None
        # Transactions committed so far (group commits show as fewer commits than records).
        self.commits = 0
        self._key = signing_key
        self._key_id = key_id(signing_key.public_key()) if signing_key is not None else None
        self._every = checkpoint_every
        self._interval = dt.timedelta(seconds=checkpoint_interval_s)
        self._max_records = max_batch_records
        self._max_subjects = max_batch_subjects
        self._waiting: deque[_Waiting] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._started_at = dt.datetime.now(dt.UTC)
        # Records known to be past the last checkpoint, and when to look again.
        self._uncovered = False
        self._next_check = 0.0
        # The last checkpoint this writer knows of (None: read it at the next commit).
        # Another process may have signed a later one meanwhile; the only effect is a
        # checkpoint signed sooner than needed, which verification accepts.
        self._signed: tuple[int, dt.datetime] | None = None

    @classmethod
    def from_env(cls, sessions: Sessions, **options: Any) -> AccessLog:
        """A writer whose signing key is the PEM file ``TONLE_AUDIT_SIGNING_KEY`` names."""
        return cls(sessions, signing_key=signing_key_from_env(), **options)

    @property
    def key_id(self) -> str | None:
        """The key ID of the checkpoint signing key, or None when checkpoints are off."""
        return self._key_id

    async def start(self) -> None:
        """Start the background writer; appends are refused before."""
        if self._task is not None:
            return
        if self._key is None:
            log.warning(
                "access log: no signing key (%s is not set): the chain is written but no "
                "checkpoint is signed, so a database administrator who recomputes the chain "
                "would not be caught",
                SIGNING_KEY_ENV,
            )
        else:
            log.info("access log: checkpoints signed with key %s", self._key_id)
        self._started_at = dt.datetime.now(dt.UTC)
        self._task = asyncio.create_task(self._run(), name="tonle-access-log")

    async def close(self) -> None:
        """Write everything queued, sign a last checkpoint (with a key), stop the writer."""
        if self._task is None:
            return
        self._closing = True
        self._wakeup.set()
        await self._task
        if self._sqlite is not None:
            self._sqlite.close()

    async def __aenter__(self) -> AccessLog:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()

    async def append(self, entry: AccessEntry) -> int:
        """Log ``entry``; return its sequence number once it is committed.

        Raises :class:`AccessLogUnavailable` when it cannot be written: the caller must
        then answer with an error and no data. Cancelling the wait before the record is
        taken into a transaction leaves it unwritten.
        """
        if not isinstance(entry, AccessEntry):
            raise TypeError("AccessLog.append takes an AccessEntry")
        if self._task is None:
            raise RuntimeError("AccessLog.start() must be awaited before append()")
        if self._closing or self._task.done():
            raise AccessLogUnavailable(
                "the access log is closed, so no personal data may be returned; "
                "this gateway is shutting down"
            )
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(entry, done))
        self._wakeup.set()
        return await done

    async def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if batch:
                await self._commit(batch)
                continue
            if self._closing:
                break
            self._wakeup.clear()
            timeout = self._next_check - time.monotonic() if self._due_later() else None
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            except TimeoutError:
                await self._timed_checkpoint()
        if self._key is not None and self._uncovered:
            await self._timed_checkpoint(final=True)

    def _take_batch(self) -> list[_Waiting]:
        batch: list[_Waiting] = []
        subjects = 0
        while self._waiting and len(batch) < self._max_records:
            first = self._waiting[0]
            if first.done.done():  # the request gave up before its record was taken
                self._waiting.popleft()
                continue
            size = len(first.entry.spids) + len(first.entry.household_ids)
            if batch and subjects + size > self._max_subjects:
                break
            batch.append(self._waiting.popleft())
            subjects += size
        return batch

    def _due_later(self) -> bool:
        return self._key is not None and self._uncovered

    async def _commit(self, batch: list[_Waiting]) -> None:
        try:
            seq = await self._transact(batch)
        except Exception as error:
            failure = self._unavailable(error)
            log.error(
                "access log: %d records could not be written (%s); their requests get an "
                "error and no data",
                len(batch),
                _error_name(error),
            )
            for waiting in batch:
                if not waiting.done.done():
                    waiting.done.set_exception(failure)
            return
        first = seq - len(batch) + 1
        for offset, waiting in enumerate(batch):
            if not waiting.done.done():
                waiting.done.set_result(first + offset)

    async def _timed_checkpoint(self, final: bool = False) -> None:
        try:
            await self._transact([], final=final)
        except Exception as error:
            # Nobody waits on a checkpoint: say so and try again later.
            self._next_check = time.monotonic() + self._interval.total_seconds()
            log.warning(
                "access log: a checkpoint could not be written (%s); retrying in %s s",
                _error_name(error),
                self._interval.total_seconds(),
            )

    async def _transact(self, batch: list[_Waiting], final: bool = False) -> int:
        """Run :meth:`_write` as one transaction; return the last seq written.

        On SQLite the whole transaction runs on the writer's own thread with a plain
        connection: through aiosqlite every statement is a round trip between threads,
        and those round trips, not SQLite, were most of a commit's cost. On PostgreSQL
        it runs on an asyncpg connection, statement by statement.
        """
        if self._sqlite is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._sqlite.thread, self._sqlite_write, batch, final)
        async with self._engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: self._write(CoreTransaction(sync, WRITE_LOCK), batch, final)
            )

    def _sqlite_write(self, batch: list[_Waiting], final: bool) -> int:
        assert self._sqlite is not None
        transaction = SqliteTransaction(self._sqlite.connection)
        try:
            return self._write(transaction, batch, final)
        except BaseException:
            transaction.rollback()
            raise

    def _write(self, transaction: Transaction, batch: list[_Waiting], final: bool) -> int:
        """One transaction: take the write lock, read the last record, append ``batch``
        to the chain, sign a checkpoint if one is due, commit."""
        transaction.lock()
        seq, prev = transaction.last_record()
        if batch:
            records, subjects = [], []
            for waiting in batch:
                seq += 1
                hash = chain_hash(prev, canonical(waiting.entry))
                records.append(record_row(seq, prev, hash, waiting.entry))
                subjects += subject_rows(seq, waiting.entry)
                prev = hash
            transaction.insert_records(records)
            transaction.insert_subjects(subjects)
        if self._key is not None:
            self._checkpoint_if_due(transaction, seq, prev, final=final)
        transaction.commit()
        self.commits += 1
        return seq

    def _checkpoint_if_due(
        self, transaction: Transaction, seq: int, hash: str, *, final: bool
    ) -> None:
        assert self._key is not None
        if self._signed is None:
            self._signed = transaction.last_checkpoint() or (0, self._started_at)
        signed_seq, signed_at = self._signed
        now = dt.datetime.now(dt.UTC)
        if seq > signed_seq and (
            final or seq - signed_seq >= self._every or now - signed_at >= self._interval
        ):
            transaction.insert_checkpoint(sign_checkpoint(self._key, seq, hash, now))
            signed_seq, signed_at = seq, now
            self._signed = (seq, now)
        self._uncovered = seq > signed_seq
        wait = (signed_at + self._interval - now).total_seconds()
        self._next_check = time.monotonic() + max(wait, 0.05)

    def _unavailable(self, error: BaseException) -> AccessLogUnavailable:
        engine = self._sessions.kw.get("bind")
        where = engine.url.render_as_string(hide_password=True) if engine is not None else ""
        hint = (
            "; or another process held its write lock too long"
            if where.startswith("sqlite")
            else ""
        )
        return AccessLogUnavailable(
            f"the access log could not be written ({_error_name(error)}), so no personal data "
            f"may be returned; check that the registry database {where} is reachable, "
            f"migrated to the latest revision and writable{hint}"
        )


def _error_name(error: BaseException) -> str:
    # Class names only: a driver's message may quote the values it refused (SPIDs).
    orig = getattr(error, "orig", None)
    names = [type(error).__name__]
    if orig is not None and type(orig).__name__ not in names:
        names.append(type(orig).__name__)
    return " / ".join(names)
