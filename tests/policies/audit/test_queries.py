"""Who saw a person's (or a household's) data, and the search the console pages through."""

from __future__ import annotations

import datetime as dt

import pytest

from policies.audit import AccessLog, InvalidAccessCursor, search_accesses, who_saw
from tests.policies.audit.conftest import T0, Sessions, entry, spid

A, B, C = spid(1), spid(2), spid(3)


async def _log(sessions: Sessions) -> None:
    hour = dt.timedelta(hours=1)
    records = [
        entry(1, spids=(A, B), households=("HH-1",), partner="nssf", at=T0),
        entry(2, spids=(B,), partner="idpoor", purpose="enrolment", at=T0 + hour),
        entry(3, spids=(C,), households=("HH-1", "HH-2"), partner="nssf", at=T0 + 2 * hour),
        entry(4, spids=(A,), partner="moi", purpose="statistics", at=T0 + 3 * hour),
        entry(5, spids=(), households=("HH-2",), partner="nssf", at=T0 + 4 * hour),
    ]
    async with AccessLog(sessions) as log:
        for record in records:
            await log.append(record)


async def test_who_saw_finds_exactly_the_records_that_returned_that_person(
    sessions: Sessions,
) -> None:
    await _log(sessions)
    assert [a.seq for a in (await who_saw(sessions, A)).accesses] == [4, 1]
    assert [a.seq for a in (await who_saw(sessions, B)).accesses] == [2, 1]
    assert [a.seq for a in (await who_saw(sessions, C)).accesses] == [3]
    assert (await who_saw(sessions, spid(99))).accesses == ()
    latest = (await who_saw(sessions, A)).accesses[0]
    assert (latest.partner, latest.purpose, latest.at) == (
        "moi",
        "statistics",
        T0 + dt.timedelta(hours=3),
    )
    assert latest.fields == ("Person.birthDate", "Person.spid")


async def test_who_saw_a_household(sessions: Sessions) -> None:
    await _log(sessions)
    assert [a.seq for a in (await who_saw(sessions, "HH-1", kind="household")).accesses] == [3, 1]
    assert [a.seq for a in (await who_saw(sessions, "HH-2", kind="household")).accesses] == [5, 3]
    # A household ID is not a person's.
    assert (await who_saw(sessions, "HH-1")).accesses == ()


async def test_who_saw_since_a_time_and_page_by_page(sessions: Sessions) -> None:
    await _log(sessions)
    since = T0 + dt.timedelta(minutes=30)
    assert [a.seq for a in (await who_saw(sessions, A, since)).accesses] == [4]
    phnom_penh = dt.timezone(dt.timedelta(hours=7))
    local = (T0 + dt.timedelta(hours=3)).astimezone(phnom_penh)  # the same instant
    assert [a.seq for a in (await who_saw(sessions, A, local)).accesses] == [4]
    first = await who_saw(sessions, B, first=1)
    assert [a.seq for a in first.accesses] == [2] and first.has_next_page
    rest = await who_saw(sessions, B, first=1, after=first.end_cursor)
    assert [a.seq for a in rest.accesses] == [1] and not rest.has_next_page


async def test_search_by_partner_purpose_and_time_range(sessions: Sessions) -> None:
    await _log(sessions)

    async def seqs(**filters: object) -> list[int]:
        return [a.seq for a in (await search_accesses(sessions, **filters)).accesses]  # type: ignore[arg-type]

    assert await seqs() == [5, 4, 3, 2, 1]
    assert await seqs(partner="nssf") == [5, 3, 1]
    assert await seqs(purpose="eligibility_check") == [5, 3, 1]
    assert await seqs(partner="idpoor", purpose="enrolment") == [2]
    hour = dt.timedelta(hours=1)
    assert await seqs(since=T0 + hour, until=T0 + 3 * hour) == [3, 2]
    assert await seqs(partner="nssf", since=T0 + hour) == [5, 3]


async def test_search_pages_cover_every_record_once(sessions: Sessions) -> None:
    await _log(sessions)
    seen: list[int] = []
    after = None
    while True:
        page = await search_accesses(sessions, first=2, after=after)
        seen += [a.seq for a in page.accesses]
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert seen == [5, 4, 3, 2, 1]


async def test_bad_arguments_are_refused_clearly(sessions: Sessions) -> None:
    with pytest.raises(InvalidAccessCursor, match="not issued by the access log"):
        await search_accesses(sessions, after="bm9wZQ")
    with pytest.raises(ValueError, match="between 1 and 1000"):
        await who_saw(sessions, A, first=0)
    with pytest.raises(ValueError, match="timezone-aware"):
        await who_saw(sessions, A, dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="kind must be one of person, household"):
        await who_saw(sessions, A, kind="village")


async def test_search_for_one_person_combines_with_partner_purpose_and_time(
    sessions: Sessions,
) -> None:
    await _log(sessions)

    async def seqs(**filters: object) -> list[int]:
        return [a.seq for a in (await search_accesses(sessions, **filters)).accesses]  # type: ignore[arg-type]

    assert await seqs(subject=A) == [4, 1]
    assert await seqs(subject=A, partner="nssf") == [1]
    assert await seqs(subject=B, since=T0 + dt.timedelta(minutes=30)) == [2]
    assert await seqs(subject="HH-2", kind="household", partner="nssf") == [5, 3]
    first = await search_accesses(sessions, subject=B, first=1)
    rest = await search_accesses(sessions, subject=B, first=1, after=first.end_cursor)
    assert [a.seq for a in first.accesses + rest.accesses] == [2, 1]
    with pytest.raises(ValueError, match="kind must be one of person, household"):
        await search_accesses(sessions, subject=A, kind="village")
