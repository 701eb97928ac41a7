"""Registration: every decision path, idempotency, batches and bad input."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store import (
    IdempotencyConflict,
    InvalidInput,
    check_registration,
    links_by_spids,
    match_record,
    parse_birth_date,
    people_by_spids,
    rebuild_blocking_keys,
    register_batch,
    register_people,
    register_person,
    review_cases,
)
from identity_store.matching import MatchModel
from identity_store.models import RegistrationEvent, RegistrationRequest
from tests.identity_store.conftest import row_counts
from tests.identity_store.people import OTHER_VILLAGE, registration

Sessions = async_sessionmaker[AsyncSession]


async def test_a_first_registration_gets_a_new_spid_with_link_history_and_answer(
    sessions: Sessions,
) -> None:
    result = await register_person(sessions, registration())
    assert result.decision == "new"
    assert not result.replayed
    async with sessions() as session:
        person = (await people_by_spids(session, [result.spid]))[result.spid]
        links = await links_by_spids(session, [result.spid])
        events = list(await session.scalars(select(RegistrationEvent)))
        answer = await session.scalar(select(RegistrationRequest))
    assert (person.family_name, person.status, person.phone) == ("Sok", "active", "012345678")
    assert [(k.operator, k.local_id) for k in links[result.spid]] == [("nssf", "NSSF-0001")]
    assert [(e.kind, e.operator, e.detail) for e in events] == [
        ("registered", "nssf", {"decision": "new", "programme": "health_care"})
    ]
    assert answer is not None
    assert (answer.spid, answer.decision) == (result.spid, "new")


async def test_the_same_khmer_id_links_the_existing_spid_when_the_names_agree(
    sessions: Sessions,
) -> None:
    first = await register_person(sessions, registration(khmer_id="123456789"))
    # Another spelling, another village, no phone: the card's fields still agree.
    second = await register_person(
        sessions,
        registration(
            operator="moi",
            local_id="KH-1",
            khmer_id="123456789",
            family_name="Sokh",
            village_code=OTHER_VILLAGE,
            phone=None,
        ),
    )
    assert second.decision == "khmer_id"
    assert second.spid == first.spid
    async with sessions() as session:
        links = await links_by_spids(session, [first.spid])
    assert {link.operator for link in links[first.spid]} == {"nssf", "moi"}
    assert (await row_counts(sessions))["person"] == 1


async def test_the_same_khmer_id_with_other_names_opens_a_review_that_names_no_one(
    sessions: Sessions,
) -> None:
    first = await register_person(sessions, registration(khmer_id="123456789"))
    claim = registration(
        operator="moi",
        local_id="KH-1",
        khmer_id="123456789",
        family_name="Chan",
        given_name="Vannak",
        birth_date=dt.date(1971, 2, 3),
        phone=None,
    )
    second = await register_person(sessions, claim)
    assert (second.decision, second.candidate_spid) == ("review", None)
    assert second.spid != first.spid
    again = await register_person(sessions, claim)
    assert (again.replayed, again.spid, again.candidate_spid) == (True, second.spid, None)
    async with sessions() as session:
        found = await people_by_spids(session, [first.spid, second.spid])
        (case,) = (await review_cases(session)).cases
        events = list(
            await session.scalars(
                select(RegistrationEvent).where(RegistrationEvent.spid == second.spid)
            )
        )
    # The ID stays with its holder; the reviewers, not the registration, see who that is.
    assert found[first.spid].khmer_id == "123456789"
    assert (found[second.spid].khmer_id, found[second.spid].status) == (None, "provisional")
    assert (case.spid, case.candidate_spid) == (second.spid, first.spid)
    assert [(e.other_spid, (e.detail or {}).get("khmer_id_claimed")) for e in events] == [
        (None, True)
    ]


async def test_a_romanization_variant_of_the_same_person_links_the_existing_spid(
    sessions: Sessions,
) -> None:
    first = await register_person(sessions, registration())
    second = await register_person(
        sessions, registration(operator="idpoor", local_id="ID-9", family_name="Sokh")
    )
    assert second.decision == "match"
    assert second.spid == first.spid
    assert second.probability is not None and second.probability >= MatchModel.default().upper
    assert {r.comparison for r in second.reasons} >= {"family_name", "given_name", "birth_date"}
    async with sessions() as session:
        stored = await session.scalar(
            select(RegistrationRequest).where(RegistrationRequest.local_id == "ID-9")
        )
    assert stored is not None
    assert stored.decision == "match"
    assert stored.reasons is not None and stored.reasons["reasons"]
    assert (await row_counts(sessions))["person"] == 1


async def test_a_clearly_different_person_gets_a_new_spid(sessions: Sessions) -> None:
    first = await register_person(sessions, registration())
    other = await register_person(
        sessions,
        registration(
            local_id="NSSF-0002",
            family_name="Chan",
            given_name="Sophea",
            sex="female",
            birth_date=dt.date(1971, 2, 3),
            village_code=OTHER_VILLAGE,
            phone="098765432",
        ),
    )
    assert other.decision == "new"
    assert other.spid != first.spid
    assert (await row_counts(sessions))["person"] == 2


def _borderline_model(a: object, b: object) -> MatchModel:
    """The default model with thresholds either side of this pair's probability."""
    model = MatchModel.default()
    first = match_record(check_registration(a))  # type: ignore[arg-type]
    second = match_record(check_registration(b))  # type: ignore[arg-type]
    p = model.score(first, second).probability
    assert 0.0 < p < 1.0
    return dataclasses.replace(model, lower=p / 2, upper=(p + 1) / 2)


async def test_an_uncertain_match_opens_a_review_case_with_a_provisional_spid(
    sessions: Sessions,
) -> None:
    a = registration()
    b = registration(
        operator="pca", local_id="P-1", birth_date=dt.date(1990, 1, 1), birth_precision="year"
    )
    model = _borderline_model(a, b)
    first = await register_person(sessions, a, model)
    second = await register_person(sessions, b, model)
    assert second.decision == "review"
    assert second.spid != first.spid
    assert second.candidate_spid == first.spid
    assert second.review_case_id is not None
    async with sessions() as session:
        provisional = (await people_by_spids(session, [second.spid]))[second.spid]
        page = await review_cases(session)
    assert provisional.status == "provisional"
    assert provisional.birth_precision == "year"
    (case,) = page.cases
    assert (case.id, case.spid, case.candidate_spid) == (
        second.review_case_id,
        second.spid,
        first.spid,
    )
    assert case.reasons == second.reasons


async def test_the_same_request_twice_registers_one_person(sessions: Sessions) -> None:
    first = await register_person(sessions, registration(idempotency_key="k-1"))
    again = await register_person(sessions, registration(idempotency_key="k-1"))
    assert again.replayed
    assert (again.spid, again.decision) == (first.spid, first.decision)
    assert (await row_counts(sessions)) == {
        "person": 1,
        "blocking_key": (await row_counts(sessions))["blocking_key"],
        "program_link": 1,
        "registration_event": 1,
        "registration_request": 1,
        "review_case": 0,
        "household": 0,
    }


async def test_the_same_operator_and_local_id_answers_the_first_registration(
    sessions: Sessions,
) -> None:
    first = await register_person(sessions, registration())
    again = await register_person(sessions, registration(phone="011111111"))
    assert again.replayed and again.spid == first.spid
    assert (await row_counts(sessions))["program_link"] == 1


async def test_an_idempotency_key_reused_for_another_request_is_refused(
    sessions: Sessions,
) -> None:
    await register_person(sessions, registration(idempotency_key="k-1"))
    before = await row_counts(sessions)
    with pytest.raises(IdempotencyConflict, match="different registration"):
        await register_person(
            sessions, registration(local_id="NSSF-0002", given_name="Vannak", idempotency_key="k-1")
        )
    assert await row_counts(sessions) == before


async def test_later_records_of_a_batch_match_earlier_ones(sessions: Sessions) -> None:
    batch = [
        registration(local_id="A"),
        registration(
            local_id="B", family_name="Chan", given_name="Sophea", sex="female", phone=None
        ),
        registration(local_id="C", family_name="Dara", given_name="Sok"),
        registration(local_id="A"),
    ]
    results = await register_batch(sessions, batch)
    assert [r.decision for r in results[:3]] == ["new", "new", "match"]
    assert results[2].spid == results[0].spid
    assert results[3].replayed and results[3].spid == results[0].spid
    assert (await row_counts(sessions))["person"] == 2


async def test_a_backlog_streams_in_batches(sessions: Sessions) -> None:
    people = [
        ("Sok", "Dara", "male", "01020101"),
        ("Chan", "Sophea", "female", "02030405"),
        ("Meas", "Visal", "male", "06081008"),
        ("Keo", "Bopha", "female", "04050607"),
        ("Touch", "Rithy", "male", "05060708"),
    ]

    async def backlog() -> AsyncIterator[object]:
        for i, (family, given, sex, village) in enumerate(people):
            yield registration(
                local_id=f"L{i}",
                family_name=family,
                given_name=given,
                sex=sex,
                village_code=village,
                birth_date=dt.date(1960 + 7 * i, 1 + i, 3 + i),
                phone=f"01200000{i}",
            )
        yield registration(local_id="L-again", phone="012000000")

    results = [r async for r in register_people(sessions, backlog(), batch_size=2)]  # type: ignore[arg-type]
    assert [r.decision for r in results] == ["new"] * 5 + ["match"]
    assert results[-1].spid == results[0].spid


async def test_a_candidate_with_another_khmer_id_is_never_the_same_person(
    sessions: Sessions,
) -> None:
    first = await register_person(sessions, registration(khmer_id="111111111"))
    twin = await register_person(sessions, registration(local_id="N2", khmer_id="222222222"))
    assert twin.decision == "new"
    assert twin.spid != first.spid


async def test_a_match_gives_a_person_registered_without_khmer_id_the_new_one(
    sessions: Sessions,
) -> None:
    first = await register_person(sessions, registration())
    second = await register_person(sessions, registration(local_id="N2", khmer_id="123456789"))
    assert second.decision == "match" and second.spid == first.spid
    async with sessions() as session:
        assert (await people_by_spids(session, [first.spid]))[first.spid].khmer_id == "123456789"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"khmer_id": "123456789", "birth_date": dt.date.today() - dt.timedelta(days=3650)},
            "only from age 15",
        ),
        ({"khmer_id": "12345"}, "9 digits"),
        ({"village_code": "99999999"}, "not in the gazetteer"),
        ({"village_code": "0102"}, "not 8 digits"),
        ({"birth_date": dt.date.today() + dt.timedelta(days=2)}, "in the future"),
        ({"sex": "x"}, "sex"),
        ({"family_name": " "}, "must not be empty"),
        ({"local_id": ""}, "local_id must not be empty"),
        ({"phone": "12"}, "phone number"),
    ],
)
async def test_bad_registrations_are_refused_naming_the_record_and_nothing_is_stored(
    sessions: Sessions, overrides: dict[str, object], message: str
) -> None:
    good = registration(local_id="GOOD")
    with pytest.raises(InvalidInput, match=message) as raised:
        await register_batch(sessions, [good, registration(**overrides)])
    assert str(raised.value).startswith("registration 2: ")
    assert set((await row_counts(sessions)).values()) == {0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("17/05/1990", "'17/05/1990' is not a date; write YYYY-MM-DD"),
        ("", "'' is not a date; write YYYY-MM-DD"),
        ("90", "'90' is not a date; write YYYY-MM-DD"),
        ("\uff11\uff19\uff19\uff10", "is not a date; write YYYY-MM-DD"),  # full-width digits
        ("1990-13-01", "has month 13; a month is 01 to 12"),
        ("1990-00", "has month 00; a month is 01 to 12"),
        ("1990-02-30", "has day 30, but February 1990 has 28 days"),
        ("2000-02-30", "has day 30, but February 2000 has 29 days"),
        ("1990-04-31", "has day 31, but April 1990 has 30 days"),
        ("1990-05-00", "has day 00, but May 1990 has 31 days"),
        ("0000", "'0000' is before 1900: check the year"),
        ("0001-01-01", "'0001-01-01' is before 1900: check the year"),
        ("1899-12-31", "before 1900"),
        ("9999-12-31", "9999-12-31 is in the future: check the year"),
    ],
)
def test_an_impossible_birth_date_is_refused_in_the_registrys_own_words(
    text: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)) as raised:
        parse_birth_date(text)
    for python_words in ("out of range", "invalid literal", "must be in"):
        assert python_words not in str(raised.value)


def test_a_birth_date_this_year_or_month_is_not_in_the_future() -> None:
    today = dt.date(2026, 3, 5)
    assert parse_birth_date("2026", today) == (dt.date(2026, 1, 1), "year")
    assert parse_birth_date("2026-03", today) == (dt.date(2026, 3, 1), "month")
    assert parse_birth_date("1900-01-01", today) == (dt.date(1900, 1, 1), "day")
    with pytest.raises(InvalidInput, match="in the future"):
        parse_birth_date("2026-04", today)


def test_a_partial_birth_date_is_its_first_day_with_its_precision() -> None:
    assert parse_birth_date("1990") == (dt.date(1990, 1, 1), "year")
    assert parse_birth_date("1990-05") == (dt.date(1990, 5, 1), "month")
    assert parse_birth_date("1990-05-17") == (dt.date(1990, 5, 17), "day")


async def test_someone_possibly_15_with_a_year_only_birth_date_keeps_their_khmer_id(
    sessions: Sessions,
) -> None:
    year = dt.date.today().year - 15
    result = await register_person(
        sessions,
        registration(khmer_id="123456789", birth_date=dt.date(year, 1, 1), birth_precision="year"),
    )
    assert result.decision == "new"


async def test_rebuilt_blocking_keys_still_find_registered_people(sessions: Sessions) -> None:
    first = await register_person(sessions, registration())
    before = await row_counts(sessions)
    assert await rebuild_blocking_keys(sessions, chunk_size=1) == 1
    assert await row_counts(sessions) == before
    again = await register_person(
        sessions, registration(local_id="N2", family_name="Dara", given_name="Sok")
    )
    assert (again.decision, again.spid) == ("match", first.spid)
