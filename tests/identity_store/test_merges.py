"""Merges and unmerges: one survivor, the merged SPID resolving to it, and the way back."""

from __future__ import annotations

import random

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store import (
    InvalidInput,
    NotMergeable,
    UnknownPerson,
    add_people,
    count_people,
    history_of,
    links_by_spids,
    merge_people,
    new_spid,
    people_by_spids,
    person_by_khmer_id,
    register_person,
    unmerge_person,
)
from tests.identity_store.conftest import row_counts
from tests.identity_store.people import OTHER_VILLAGE, person, registration

Sessions = async_sessionmaker[AsyncSession]


async def _two(sessions: Sessions) -> tuple[str, str]:
    a = await register_person(sessions, registration(khmer_id="123456789"))
    b = await register_person(
        sessions,
        registration(
            operator="idpoor",
            local_id="HH-7",
            family_name="Chan",
            given_name="Sophea",
            sex="female",
            village_code=OTHER_VILLAGE,
            phone=None,
        ),
    )
    assert a.spid != b.spid
    return a.spid, b.spid


async def test_a_merge_and_its_unmerge_round_trip(sessions: Sessions) -> None:
    survivor, merged = await _two(sessions)
    result = await merge_people(sessions, survivor, merged, "reviewer-1", "same person, site visit")
    assert result.spid == survivor
    async with sessions() as session:
        found = await people_by_spids(session, [merged, survivor])
        links = await links_by_spids(session, [survivor, merged])
        assert await count_people(session) == 1
    assert found[merged].spid == survivor
    assert found[survivor].spid == survivor
    assert {link.operator for link in links[survivor]} == {"nssf", "idpoor"}
    assert merged not in links
    assert {(link.operator, link.registered_spid) for link in links[survivor]} == {
        ("nssf", survivor),
        ("idpoor", merged),
    }

    restored = await unmerge_person(sessions, merged, "reviewer-2", "two sisters, not one")
    assert (restored.spid, restored.status, restored.family_name) == (merged, "active", "Chan")
    async with sessions() as session:
        found = await people_by_spids(session, [merged, survivor])
        links = await links_by_spids(session, [survivor, merged])
        history = await history_of(session, merged)
        assert await count_people(session) == 2
    assert found[merged].spid == merged
    assert [link.operator for link in links[survivor]] == ["nssf"]
    assert [link.operator for link in links[merged]] == ["idpoor"]
    assert [(e.kind, e.actor, e.other_spid) for e in history] == [
        ("registered", None, None),
        ("merged", "reviewer-1", survivor),
        ("unmerged", "reviewer-2", survivor),
    ]
    assert history[1].detail["reason"] == "same person, site visit"


async def test_a_khmer_id_held_by_a_merged_spid_finds_the_survivor(sessions: Sessions) -> None:
    holder, other = await _two(sessions)
    await merge_people(sessions, other, holder, "reviewer-1", "duplicate")
    async with sessions() as session:
        found = await person_by_khmer_id(session, "123456789")
    assert found is not None and found.spid == other


async def test_merges_chain_and_unmerging_the_middle_brings_its_own_back(
    sessions: Sessions,
) -> None:
    rng = random.Random(11)
    a, b, c = (person(rng, family_name=name) for name in ("Keo", "Ly", "Pich"))
    await add_people(sessions, [a, b, c])
    await merge_people(sessions, b.spid, a.spid, "r", "dup")
    await merge_people(sessions, c.spid, b.spid, "r", "dup")
    async with sessions() as session:
        found = await people_by_spids(session, [a.spid, b.spid])
    assert {p.spid for p in found.values()} == {c.spid}
    await unmerge_person(sessions, b.spid, "r", "not the same")
    async with sessions() as session:
        found = await people_by_spids(session, [a.spid, b.spid])
    assert found[a.spid].spid == b.spid
    assert found[b.spid].spid == b.spid


async def test_refused_merges_store_nothing(sessions: Sessions) -> None:
    rng = random.Random(12)
    a, b = await _two(sessions)
    other = await register_person(
        sessions, registration(local_id="X", khmer_id="987654321", given_name="Vannak", phone=None)
    )
    before = await row_counts(sessions)
    wrong = a[:-1] + str((int(a[-1]) + 1) % 10)
    cases: list[tuple[tuple[str, str, str, str], type[Exception], str]] = [
        ((a, a, "r", "x"), NotMergeable, "themselves"),
        ((wrong, b, "r", "x"), InvalidInput, "check digit"),
        ((a, new_spid(rng), "r", "x"), UnknownPerson, "no one in the registry"),
        ((a, other.spid, "r", "x"), NotMergeable, "different Khmer IDs"),
        ((a, b, "", "x"), InvalidInput, "decidedBy"),
        ((a, b, "r", " "), InvalidInput, "reason"),
    ]
    for args, error, message in cases:
        with pytest.raises(error, match=message):
            await merge_people(sessions, *args)
    with pytest.raises(NotMergeable, match="not merged"):
        await unmerge_person(sessions, a, "r", "x")
    assert await row_counts(sessions) == before


async def test_a_merged_spid_cannot_be_merged_again_or_survive(sessions: Sessions) -> None:
    a, b = await _two(sessions)
    await merge_people(sessions, a, b, "r", "dup")
    with pytest.raises(NotMergeable, match="already merged"):
        await merge_people(sessions, a, b, "r", "dup")
    with pytest.raises(NotMergeable, match=f"merge into {a} instead"):
        await merge_people(sessions, b, a, "r", "dup")
