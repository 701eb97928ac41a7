"""Registrations of one person that arrive at the same moment still give one SPID."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store import Registration, register_batch, register_person
from tests.identity_store.conftest import row_counts
from tests.identity_store.people import registration

Sessions = async_sessionmaker[AsyncSession]
OPERATORS = ("nssf", "idpoor", "pca", "moi", "mosvy", "mef")


async def test_the_same_new_person_from_several_operators_at_once_is_one_person(
    sessions: Sessions,
) -> None:
    results = await asyncio.gather(
        *(
            register_person(sessions, registration(operator=op, local_id=f"{op.upper()}-1"))
            for op in OPERATORS
        )
    )
    assert len({r.spid for r in results}) == 1
    assert sorted(r.decision for r in results) == ["match"] * (len(OPERATORS) - 1) + ["new"]
    counts = await row_counts(sessions)
    assert counts["person"] == 1
    assert counts["program_link"] == len(OPERATORS)


async def test_one_request_sent_twice_at_once_is_answered_once(sessions: Sessions) -> None:
    first, second = await asyncio.gather(
        register_person(sessions, registration()), register_person(sessions, registration())
    )
    assert first.spid == second.spid
    assert sorted((first.replayed, second.replayed)) == [False, True]
    assert (await row_counts(sessions))["person"] == 1


def _word(n: int) -> str:
    """A name made of consonants (which the matcher's name keys keep) that encode ``n``."""
    letters = "bdfgklmnprstvz"
    word = ""
    while True:
        n, digit = divmod(n, len(letters))
        word += letters[digit] + "a"
        if n == 0:
            return word.capitalize()


def _backlog(tag: str, size: int) -> list[Registration]:
    """``size`` different people, none sharing a name with another backlog's."""
    return [
        registration(
            operator="idpoor",
            local_id=f"{tag}-{i}",
            family_name=_word(100_000 + ord(tag)),
            given_name=_word(1000 * ord(tag) + i),
            birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=37 * i + ord(tag)),
            phone=f"01{ord(tag):03d}{i:04d}",
        )
        for i in range(size)
    ]


async def test_concurrent_backlogs_do_not_exhaust_the_database_lock_table(
    sessions: Sessions, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL lock table matter; SQLite registrations take turns anyway")
    # Five backlogs of 700 people, all with different keys: locking every key of every
    # backlog at once would need ~30,000 PostgreSQL locks, past its default lock table.
    results = await asyncio.gather(
        *(register_batch(sessions, _backlog(tag, 700)) for tag in "vwxyz")
    )
    assert [len(r) for r in results] == [700] * 5
    issued = {r.spid for batch in results for r in batch if r.decision in ("new", "review")}
    assert (await row_counts(sessions))["person"] == len(issued) > 300


async def test_a_person_in_a_backlog_and_registered_alone_at_once_is_one_person(
    sessions: Sessions,
) -> None:
    backlog = [*_backlog("b", 120), registration(operator="idpoor", local_id="IDP-1")]
    single = registration(operator="nssf", local_id="NSSF-1")
    batch_results, single_result = await asyncio.gather(
        register_batch(sessions, backlog), register_person(sessions, single)
    )
    assert batch_results[-1].spid == single_result.spid
    issued = {r.spid for r in (*batch_results, single_result) if r.decision in ("new", "review")}
    assert (await row_counts(sessions))["person"] == len(issued)
