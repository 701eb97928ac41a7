"""Registrations of one person that arrive at the same moment still give one SPID."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store import register_person
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
