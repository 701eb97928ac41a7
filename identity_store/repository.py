"""Reading and writing people: one SQL statement per batch, keyset pagination by village."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, any_, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store.errors import AlreadyRegistered, InvalidCursor, InvalidInput
from identity_store.gazetteer import check_village_code
from identity_store.models import SEXES, Person
from identity_store.spid import InvalidSpid, is_valid_spid, validate_spid

KHMER_ID = re.compile(r"\d{9}")
KHMER_ID_MIN_AGE = 15
MAX_PAGE_SIZE = 500
_CURSOR_PREFIX = "v1:"


@dataclass(frozen=True)
class NewPerson:
    """A person to add to the registry."""

    spid: str
    khmer_id: str | None
    family_name: str
    given_name: str
    birth_date: dt.date
    sex: str
    village_code: str


@dataclass(frozen=True)
class PersonRecord:
    """A registered person, as the registry holds them."""

    spid: str
    khmer_id: str | None
    family_name: str
    given_name: str
    birth_date: dt.date
    sex: str
    village_code: str


@dataclass(frozen=True)
class PersonPage:
    """One page of a village's people, in SPID order."""

    people: tuple[PersonRecord, ...]
    has_next_page: bool
    end_cursor: str | None


def age_on(birth_date: dt.date, day: dt.date) -> int:
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def check_new_person(person: NewPerson, today: dt.date | None = None) -> None:
    """Raise :class:`InvalidInput` naming the first rule ``person`` breaks."""
    try:
        validate_spid(person.spid)
    except InvalidSpid as error:
        raise InvalidInput(str(error)) from None
    if not person.family_name.strip() or not person.given_name.strip():
        raise InvalidInput("family and given names must not be empty.")
    if person.sex not in SEXES:
        raise InvalidInput(f"sex {person.sex!r} is not one of {', '.join(SEXES)}.")
    today = today or dt.date.today()
    if person.birth_date > today:
        raise InvalidInput(f"birth date {person.birth_date.isoformat()} is in the future.")
    if person.khmer_id is not None:
        if not KHMER_ID.fullmatch(person.khmer_id):
            raise InvalidInput("a Khmer ID is 9 digits; copy it from the ID card.")
        if age_on(person.birth_date, today) < KHMER_ID_MIN_AGE:
            raise InvalidInput(
                "a Khmer ID is issued only from age 15; this person is younger. "
                "Register them without a Khmer ID."
            )
    check_village_code(person.village_code)


def _record(row: Person) -> PersonRecord:
    return PersonRecord(
        spid=row.spid,
        khmer_id=row.khmer_id,
        family_name=row.family_name,
        given_name=row.given_name,
        birth_date=row.birth_date,
        sex=row.sex,
        village_code=row.village_code,
    )


async def add_people(
    sessions: async_sessionmaker[AsyncSession],
    people: Iterable[NewPerson],
    *,
    chunk_size: int = 2000,
) -> int:
    """Insert people in chunks, each chunk in one transaction; returns how many were added.

    Every person is checked before anything is written; a SPID or Khmer ID that is
    already registered fails its chunk as a whole, leaving earlier chunks in place.
    """
    batch = list(people)
    for person in batch:
        check_new_person(person)
    added = 0
    for start in range(0, len(batch), chunk_size):
        chunk = batch[start : start + chunk_size]
        try:
            async with sessions.begin() as session:
                await session.execute(insert(Person), [_row(person) for person in chunk])
        except IntegrityError:
            raise AlreadyRegistered(
                "a SPID or Khmer ID in this batch is already registered; "
                "look the person up instead of adding them again."
            ) from None
        added += len(chunk)
    return added


def _row(person: NewPerson) -> dict[str, object]:
    return {
        "spid": person.spid,
        "khmer_id": person.khmer_id,
        "family_name": person.family_name,
        "given_name": person.given_name,
        "birth_date": person.birth_date,
        "sex": person.sex,
        "village_code": person.village_code,
    }


async def people_by_spids(session: AsyncSession, spids: Iterable[str]) -> dict[str, PersonRecord]:
    """The registered people among ``spids``, in one query however many there are.

    SPIDs that are malformed or unknown are simply absent from the answer.
    """
    wanted = [spid for spid in dict.fromkeys(spids) if is_valid_spid(spid)]
    if not wanted:
        return {}
    query = select(Person).where(_spid_among(session, wanted))
    rows = await session.scalars(query)
    return {row.spid: _record(row) for row in rows}


def _spid_among(session: AsyncSession, spids: list[str]) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        # One array parameter: asyncpg refuses more than 32,767 parameters, and the
        # statement text stays the same for every batch size, so it is prepared once.
        return Person.spid == any_(bindparam("spids", spids, type_=ARRAY(String)))
    return Person.spid.in_(spids)


def encode_cursor(spid: str) -> str:
    """The opaque cursor that points after ``spid``."""
    return base64.urlsafe_b64encode((_CURSOR_PREFIX + spid).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The SPID a cursor points after; :class:`InvalidCursor` if it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    spid = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not is_valid_spid(spid):
        raise InvalidCursor(
            "this cursor was not issued by the registry; pass the endCursor of the "
            "previous page, or no cursor to start from the beginning."
        )
    return spid


async def people_in_village(
    session: AsyncSession, village_code: str, first: int, after: str | None = None
) -> PersonPage:
    """One page of a village's people in SPID order (keyset pagination)."""
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE_SIZE}; got {first}.")
    check_village_code(village_code)
    query = select(Person).where(Person.village_code == village_code)
    if after is not None:
        query = query.where(Person.spid > decode_cursor(after))
    rows = list(await session.scalars(query.order_by(Person.spid).limit(first + 1)))
    has_next = len(rows) > first
    people = tuple(_record(row) for row in rows[:first])
    return PersonPage(
        people=people,
        has_next_page=has_next,
        end_cursor=encode_cursor(people[-1].spid) if people else None,
    )


async def count_people(session: AsyncSession, village_code: str | None = None) -> int:
    """How many people are registered, in all or in one village."""
    query = select(func.count()).select_from(Person)
    if village_code is not None:
        query = query.where(Person.village_code == village_code)
    return int(await session.scalar(query) or 0)


async def most_populous_village(session: AsyncSession) -> str | None:
    """The village with the most registrants (the demo shows it in its first query)."""
    query = (
        select(Person.village_code)
        .group_by(Person.village_code)
        .order_by(func.count().desc(), Person.village_code)
        .limit(1)
    )
    return await session.scalar(query)
