"""Review cases: listed oldest first, decided once, with who and why."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store import (
    InvalidCursor,
    InvalidInput,
    NotMergeable,
    RegistrationResult,
    check_registration,
    count_people,
    history_of,
    match_record,
    people_by_spids,
    register_person,
    resolve_review_case,
    review_cases,
)
from identity_store.matching import MatchModel
from tests.identity_store.people import registration

Sessions = async_sessionmaker[AsyncSession]


PEOPLE = [
    ("Sok", "Dara", "male", "01020101"),
    ("Chan", "Sophea", "female", "02030405"),
    ("Meas", "Visal", "male", "06081008"),
    ("Keo", "Bopha", "female", "04050607"),
    ("Touch", "Rithy", "male", "05060708"),
]


async def _review(sessions: Sessions, n: int = 1) -> list[RegistrationResult]:
    """``n`` uncertain registrations, each of a different registered person."""
    pairs = []
    for i, (family, given, sex, village) in enumerate(PEOPLE[:n]):
        a = registration(
            local_id=f"A-{i}",
            family_name=family,
            given_name=given,
            sex=sex,
            village_code=village,
            birth_date=dt.date(1950 + 8 * i, 1 + i, 3 + i),
            phone=f"01200000{i}",
        )
        b = dataclasses.replace(
            a,
            operator="pca",
            local_id=f"P-{i}",
            birth_date=dt.date(1950 + 8 * i, 1, 1),
            birth_precision="year",
        )
        pairs.append((a, b))
    model = MatchModel.default()
    ps = [
        model.score(
            match_record(check_registration(a)), match_record(check_registration(b))
        ).probability
        for a, b in pairs
    ]
    model = dataclasses.replace(model, lower=min(ps) / 2, upper=(max(ps) + 1) / 2)
    for a, _ in pairs:
        await register_person(sessions, a, model)
    return [await register_person(sessions, b, model) for _, b in pairs]


async def test_same_person_merges_the_provisional_spid_into_the_candidate(
    sessions: Sessions,
) -> None:
    (result,) = await _review(sessions)
    assert result.review_case_id is not None and result.candidate_spid is not None
    case = await resolve_review_case(
        sessions, result.review_case_id, True, "officer-3", "same phone and village"
    )
    assert (case.status, case.resolved_by, case.resolution_reason) == (
        "same_person",
        "officer-3",
        "same phone and village",
    )
    assert case.resolved_at is not None
    async with sessions() as session:
        found = await people_by_spids(session, [result.spid])
        assert (await review_cases(session)).cases == ()
        assert len((await review_cases(session, "same_person")).cases) == 1
        assert await count_people(session) == 1
    assert found[result.spid].spid == result.candidate_spid


async def test_different_people_turns_the_provisional_spid_into_an_ordinary_one(
    sessions: Sessions,
) -> None:
    (result,) = await _review(sessions)
    assert result.review_case_id is not None
    await resolve_review_case(sessions, result.review_case_id, False, "officer-3", "twins")
    async with sessions() as session:
        found = await people_by_spids(session, [result.spid])
        history = await history_of(session, result.spid)
        assert await count_people(session) == 2
    assert (found[result.spid].spid, found[result.spid].status) == (result.spid, "active")
    assert history[-1].kind == "kept_apart" and history[-1].actor == "officer-3"


async def test_a_case_is_decided_once(sessions: Sessions) -> None:
    (result,) = await _review(sessions)
    assert result.review_case_id is not None
    await resolve_review_case(sessions, result.review_case_id, False, "officer-3", "twins")
    with pytest.raises(NotMergeable, match="already decided"):
        await resolve_review_case(sessions, result.review_case_id, True, "officer-4", "oops")
    with pytest.raises(InvalidInput, match="no review case"):
        await resolve_review_case(sessions, 999_999, True, "officer-4", "x")


async def test_open_cases_page_oldest_first(sessions: Sessions) -> None:
    results = await _review(sessions, 5)
    ids: list[int] = []
    after = None
    async with sessions() as session:
        while True:
            page = await review_cases(session, first=2, after=after)
            ids.extend(case.id for case in page.cases)
            if not page.has_next_page:
                break
            after = page.end_cursor
        with pytest.raises(InvalidCursor):
            await review_cases(session, after="bm90LWEtY3Vyc29y")
    assert ids == [r.review_case_id for r in results]
