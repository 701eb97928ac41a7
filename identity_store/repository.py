"""Reading and writing people: one SQL statement per batch, keyset pagination by village."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, String, any_, bindparam, delete, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store import cursors
from identity_store.dates import check_birth_date
from identity_store.errors import AlreadyRegistered, InvalidInput
from identity_store.gazetteer import area_codes, area_names, check_village_code
from identity_store.hygiene import ascii_digits, clean_name
from identity_store.matching import MatchRecord, blocking_keys
from identity_store.models import PRECISIONS, RELATIONSHIPS, SEXES, BlockingKey, Person
from identity_store.names import name_key
from identity_store.scope import EVERYONE, Scope, in_scope, may_resolve
from identity_store.spid import InvalidSpid, is_valid_spid, validate_spid

KHMER_ID = re.compile(r"[0-9]{9}")
KHMER_ID_MIN_AGE = 15
# A consolidated view of 10,000 people in one query is the design's scale (DESIGN.md).
MAX_PAGE_SIZE = 10_000
MAX_NAME_LENGTH = 100
# A Cambodian number as dialled at home: 0, then 8 or 9 digits.
PHONE = re.compile(r"0[0-9]{8,9}")
_CURSOR_PREFIX = "v1:"
# Merges chain (A into B, later B into C); resolving follows at most this many hops.
_MAX_MERGE_HOPS = 16
AREA_LEVELS = ("village", "commune", "district", "province")
_AREA_DIGITS = {"province": 2, "district": 4, "commune": 6, "village": 8}


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
    family_name_km: str | None = None
    given_name_km: str | None = None
    birth_precision: str = "day"  # a month or year precision date is its first day
    phone: str | None = None  # as normalize_phone gives it
    status: str = "active"
    household_id: str | None = None
    relationship: str | None = None


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
    family_name_km: str | None = None
    given_name_km: str | None = None
    birth_precision: str = "day"
    phone: str | None = None
    status: str = "active"
    merged_into: str | None = None
    household_id: str | None = None
    relationship: str | None = None


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


NAME_FIELDS = {
    "family_name": "family name",
    "given_name": "given name",
    "family_name_km": "family name in Khmer script",
    "given_name_km": "given name in Khmer script",
}


def clean_person(person: NewPerson) -> NewPerson:
    """``person`` with names as the registry stores them and its Khmer ID in 0-9 digits.

    Names go through :func:`identity_store.hygiene.clean_name` (NFC, spaces, invisible
    characters); a character the registry refuses raises :class:`InvalidInput`. An
    optional Khmer-script name that cleans to nothing is stored as absent.
    """
    changes: dict[str, Any] = {}
    for field, what in NAME_FIELDS.items():
        value = getattr(person, field)
        if value is None:
            continue
        cleaned: str | None = clean_name(value, what)
        if field.endswith("_km") and not cleaned:
            cleaned = None
        if cleaned != value:
            changes[field] = cleaned
    if person.khmer_id is not None and not person.khmer_id.isascii():
        changes["khmer_id"] = ascii_digits(person.khmer_id)
    return replace(person, **changes) if changes else person


def check_new_person(person: NewPerson, today: dt.date | None = None) -> None:
    """Raise :class:`InvalidInput` naming the first rule ``person`` breaks.

    The one place the registry's rules for a person live: every path that stores a
    person (bulk load, registration) goes through it, after :func:`clean_person`.
    """
    try:
        validate_spid(person.spid)
    except InvalidSpid as error:
        raise InvalidInput(str(error)) from None
    for field, what in NAME_FIELDS.items():
        value = getattr(person, field)
        if value is not None and clean_name(value, what) != value:
            raise InvalidInput(
                f"{what} {value!r} is not in the registry's form; pass the person "
                "through clean_person first."
            )
    if not person.family_name or not person.given_name:
        raise InvalidInput(
            "family and given names must not be empty (once spaces and invisible "
            "characters are left out)."
        )
    for name in (
        person.family_name,
        person.given_name,
        person.family_name_km or "",
        person.given_name_km or "",
    ):
        if len(name) > MAX_NAME_LENGTH:
            raise InvalidInput(f"a name is at most {MAX_NAME_LENGTH} characters.")
    if person.sex not in SEXES:
        raise InvalidInput(f"sex {person.sex!r} is not one of {', '.join(SEXES)}.")
    if person.birth_precision not in PRECISIONS:
        raise InvalidInput(
            f"birth date precision {person.birth_precision!r} is not one of "
            f"{', '.join(PRECISIONS)}."
        )
    today = today or dt.date.today()
    check_birth_date(person.birth_date, today)
    if person.khmer_id is not None:
        if not KHMER_ID.fullmatch(person.khmer_id):
            raise InvalidInput("a Khmer ID is 9 digits; copy it from the ID card.")
        # A partial birth date is stored as its first day, the oldest the person can be:
        # only someone certainly under 15 is refused.
        if age_on(person.birth_date, today) < KHMER_ID_MIN_AGE:
            raise InvalidInput(
                "a Khmer ID is issued only from age 15; this person is younger. "
                "Register them without a Khmer ID."
            )
    if person.phone is not None and not PHONE.fullmatch(person.phone):
        raise InvalidInput(
            "a phone number is 9 or 10 digits starting with 0 (or +855 and 8 or 9 digits)."
        )
    if person.relationship is not None and person.relationship not in RELATIONSHIPS:
        raise InvalidInput(
            f"relationship {person.relationship!r} is not one of {', '.join(RELATIONSHIPS)}."
        )
    check_village_code(person.village_code)


def normalize_phone(phone: str) -> str:
    """A phone number as the registry stores it (0 and 8 or 9 digits), or InvalidInput."""
    digits = "".join(ch for ch in ascii_digits(phone) if "0" <= ch <= "9")
    if phone.strip().startswith("+") or (digits.startswith("855") and len(digits) >= 11):
        digits = "0" + digits.removeprefix("855")
    if not PHONE.fullmatch(digits):
        raise InvalidInput(
            "a phone number is 9 or 10 digits starting with 0 (or +855 and 8 or 9 digits)."
        )
    return digits


def match_record(person: NewPerson | PersonRecord) -> MatchRecord:
    """What the matcher sees of a person."""
    precision = person.birth_precision
    return MatchRecord(
        family_name=person.family_name,
        given_name=person.given_name,
        family_name_km=person.family_name_km,
        given_name_km=person.given_name_km,
        birth_date=person.birth_date,
        birth_precision="year"
        if precision == "year"
        else "month"
        if precision == "month"
        else "day",
        sex=person.sex,
        village_code=person.village_code,
        phone=person.phone,
        khmer_id=person.khmer_id,
    )


# PersonRecord's fields as columns: reading rows rather than ORM objects takes a third of
# the time for a page of 10,000 people.
_RECORD_COLUMNS = tuple(getattr(Person, field.name) for field in fields(PersonRecord))


def _select_records() -> Select[Any]:
    """A statement over ``Person`` whose rows are ``PersonRecord``'s fields, in order."""
    return select(*_RECORD_COLUMNS)


async def _records(session: AsyncSession, query: Select[Any]) -> list[PersonRecord]:
    return [PersonRecord(*row) for row in await session.execute(query)]


def person_record(row: Person) -> PersonRecord:
    """A stored person as the registry answers them."""
    return PersonRecord(
        spid=row.spid,
        khmer_id=row.khmer_id,
        family_name=row.family_name,
        given_name=row.given_name,
        birth_date=row.birth_date,
        sex=row.sex,
        village_code=row.village_code,
        family_name_km=row.family_name_km,
        given_name_km=row.given_name_km,
        birth_precision=row.birth_precision,
        phone=row.phone,
        status=row.status,
        merged_into=row.merged_into,
        household_id=row.household_id,
        relationship=row.relationship,
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
    batch = [clean_person(person) for person in people]
    for person in batch:
        check_new_person(person)
    added = 0
    for start in range(0, len(batch), chunk_size):
        chunk = batch[start : start + chunk_size]
        try:
            async with sessions.begin() as session:
                await session.execute(insert(Person), [person_row(person) for person in chunk])
                keys = key_rows(chunk)
                if keys:
                    await session.execute(insert(BlockingKey), keys)
        except IntegrityError:
            raise AlreadyRegistered(
                "a SPID or Khmer ID in this batch is already registered; "
                "look the person up instead of adding them again."
            ) from None
        added += len(chunk)
    return added


def person_row(person: NewPerson) -> dict[str, object]:
    """The person table's row for ``person``, with its derived columns."""
    return {
        "spid": person.spid,
        "khmer_id": person.khmer_id,
        "family_name": person.family_name,
        "given_name": person.given_name,
        "birth_date": person.birth_date,
        "sex": person.sex,
        "village_code": person.village_code,
        "family_name_km": person.family_name_km,
        "given_name_km": person.given_name_km,
        "birth_precision": person.birth_precision,
        "phone": person.phone,
        "status": person.status,
        "household_id": person.household_id,
        "relationship": person.relationship,
        "name_key": name_key(person.family_name, person.given_name),
        **area_codes(person.village_code),
    }


def key_rows(people: Iterable[NewPerson]) -> list[dict[str, str]]:
    """The blocking-key rows of ``people``."""
    return [
        {"key": key, "spid": person.spid}
        for person in people
        for key in sorted(blocking_keys(match_record(person)))
    ]


async def rebuild_blocking_keys(
    sessions: async_sessionmaker[AsyncSession], *, chunk_size: int = 5000
) -> int:
    """Recompute every person's blocking keys; returns how many people were keyed.

    Run it after the matcher changes how it builds keys, or registrations would miss
    candidates keyed the old way. Until it finishes, some people have no keys.
    """
    async with sessions.begin() as session:
        await session.execute(delete(BlockingKey))
    last, keyed = "", 0
    while True:
        async with sessions.begin() as session:
            rows = list(
                await session.scalars(
                    select(Person).where(Person.spid > last).order_by(Person.spid).limit(chunk_size)
                )
            )
            if not rows:
                return keyed
            keys = key_rows(new_person_of(row) for row in rows)
            if keys:
                await session.execute(insert(BlockingKey), keys)
        keyed += len(rows)
        last = rows[-1].spid


def new_person_of(row: Person) -> NewPerson:
    """A stored person's fields, as they were registered."""
    return NewPerson(
        spid=row.spid,
        khmer_id=row.khmer_id,
        family_name=row.family_name,
        given_name=row.given_name,
        birth_date=row.birth_date,
        sex=row.sex,
        village_code=row.village_code,
        family_name_km=row.family_name_km,
        given_name_km=row.given_name_km,
        birth_precision=row.birth_precision,
        phone=row.phone,
    )


async def people_by_spids(
    session: AsyncSession, spids: Iterable[str], *, scope: Scope = EVERYONE
) -> dict[str, PersonRecord]:
    """The registered people among ``spids``, in one query however many there are.

    A merged SPID answers its survivor (one more query, only when some were merged).
    SPIDs that are malformed, unknown or outside ``scope`` are simply absent from the
    answer, alike; a merged SPID is answered only when its survivor is in scope.
    """
    wanted = [spid for spid in dict.fromkeys(spids) if is_valid_spid(spid)]
    if not wanted:
        return {}
    query = _scoped(_select_records().where(_spid_among(session, wanted)), scope)
    found = {record.spid: record for record in await _records(session, query)}
    return await _resolve_merged(session, found, scope)


def _scoped(query: Select[Any], scope: Scope) -> Select[Any]:
    """``query`` over ``Person`` keeping rows in scope, and merged rows to follow."""
    return query if scope.unrestricted else query.where(may_resolve(scope))


def among(session: AsyncSession, column: Any, values: list[str]) -> ColumnElement[bool]:
    """``column`` is one of ``values``, as one statement whatever their number."""
    if session.get_bind().dialect.name == "postgresql":
        # One array parameter: asyncpg refuses more than 32,767 parameters, and the
        # statement text stays the same for every batch size, so it is prepared once.
        return column == any_(bindparam(None, values, type_=ARRAY(String)))  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]


def _spid_among(session: AsyncSession, spids: list[str]) -> ColumnElement[bool]:
    return among(session, Person.spid, spids)


async def _resolve_merged(
    session: AsyncSession, found: dict[str, PersonRecord], scope: Scope = EVERYONE
) -> dict[str, PersonRecord]:
    """``found`` with every merged record replaced by the person it was merged into.

    Under a restricted ``scope`` a merged record whose survivor is out of scope is
    dropped: the merged SPID is then as unknown as its survivor.
    """
    # Every row fetched so far (None: not found, or out of scope), so that each SPID of
    # a chain is asked for once.
    found = dict(found)
    known: dict[str, PersonRecord | None] = dict(found)
    for _ in range(_MAX_MERGE_HOPS):
        pending = {
            record.merged_into
            for record in found.values()
            if record.status == "merged" and record.merged_into is not None
        }
        missing = sorted(pending - known.keys())
        if missing:
            query = _scoped(_select_records().where(_spid_among(session, missing)), scope)
            known.update(dict.fromkeys(missing))
            known.update({record.spid: record for record in await _records(session, query)})
        moved = False
        for spid, record in found.items():
            if record.status == "merged" and record.merged_into is not None:
                survivor = known.get(record.merged_into)
                if survivor is not None:
                    found[spid] = survivor
                    moved = True
        if not moved:
            break
    if scope.unrestricted:
        return found
    return {spid: record for spid, record in found.items() if record.status != "merged"}


async def resolve_spids(
    session: AsyncSession, states: dict[str, tuple[str, str | None]]
) -> dict[str, str]:
    """The SPID each person stands for: itself, or the end of its chain of merges.

    ``states`` gives each SPID's (status, merged_into); one query per hop of merges.
    """
    resolved = {spid: spid for spid in states}
    known = dict(states)
    for _ in range(_MAX_MERGE_HOPS):
        pending = sorted({target for target in resolved.values() if target not in known})
        if pending:
            rows = await session.execute(
                select(Person.spid, Person.status, Person.merged_into).where(
                    _spid_among(session, pending)
                )
            )
            for spid, status, merged_into in rows:
                known[spid] = (status, merged_into)
        moved = False
        for spid, target in resolved.items():
            status, merged_into = known.get(target, ("active", None))
            if status == "merged" and merged_into:
                resolved[spid] = merged_into
                moved = True
        if not moved:
            break
    return resolved


async def person_by_khmer_id(
    session: AsyncSession, khmer_id: str, *, scope: Scope = EVERYONE
) -> PersonRecord | None:
    """The person holding ``khmer_id`` (its survivor if merged), or None (also out of scope)."""
    khmer_id = ascii_digits(khmer_id)
    if not KHMER_ID.fullmatch(khmer_id):
        raise InvalidInput("a Khmer ID is 9 digits; copy it from the ID card.")
    row = await session.scalar(_scoped(select(Person).where(Person.khmer_id == khmer_id), scope))
    if row is None:
        return None
    resolved = await _resolve_merged(session, {row.spid: person_record(row)}, scope)
    return resolved.get(row.spid)


def encode_cursor(spid: str) -> str:
    """The opaque cursor that points after ``spid``."""
    return cursors.encode(_CURSOR_PREFIX, spid)


def decode_cursor(cursor: str) -> str:
    """The SPID a cursor points after; :class:`InvalidCursor` if it is not one of ours."""
    return cursors.decode(_CURSOR_PREFIX, cursor, is_valid_spid)


def check_area_code(level: str, code: str) -> str:
    """Return ``code`` if it is a well-formed code of ``level`` that the gazetteer knows."""
    if level not in _AREA_DIGITS:
        raise InvalidInput(f"area level {level!r} is not one of {', '.join(AREA_LEVELS)}.")
    if level == "village":
        return check_village_code(code)
    digits = _AREA_DIGITS[level]
    if not (len(code) == digits and code.isascii() and code.isdigit()):
        raise InvalidInput(
            f"a {level} code is {digits} digits (the first {digits} of its villages' codes); "
            f"got {code!r}."
        )
    if code not in area_names(level):
        raise InvalidInput(
            f"{level} code {code} is not in the gazetteer; look it up by name in the "
            "gazetteer and give its code."
        )
    return code


def _area_column(level: str) -> Any:
    columns = {
        "village": Person.village_code,
        "commune": Person.commune_code,
        "district": Person.district_code,
        "province": Person.province_code,
    }
    return columns[level]


async def people_in_village(
    session: AsyncSession, village_code: str, first: int, after: str | None = None
) -> PersonPage:
    """One page of a village's people in SPID order (keyset pagination)."""
    return await people_in_area(session, "village", village_code, first, after)


async def people_in_area(
    session: AsyncSession,
    level: str,
    code: str,
    first: int,
    after: str | None = None,
    *,
    scope: Scope = EVERYONE,
) -> PersonPage:
    """One page of the people of a village, commune, district or province, in SPID order.

    Keyset pagination over the index ``(<level>_code, spid)``; merged SPIDs are left out
    (their survivor is listed under its own SPID), and so is everyone outside ``scope``
    (in the statement itself: a page is full and its cursor counts only people in scope).
    """
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE_SIZE}; got {first}.")
    check_area_code(level, code)
    column = _area_column(level)
    query = _select_records().where(column == code, Person.status != "merged")
    if not scope.unrestricted:
        query = query.where(in_scope(scope))
    if after is not None:
        query = query.where(Person.spid > decode_cursor(after))
    records = await _records(session, query.order_by(Person.spid).limit(first + 1))
    has_next = len(records) > first
    people = tuple(records[:first])
    return PersonPage(
        people=people,
        has_next_page=has_next,
        end_cursor=encode_cursor(people[-1].spid) if people else None,
    )


async def count_people(
    session: AsyncSession,
    village_code: str | None = None,
    *,
    area: tuple[str, str] | None = None,
    scope: Scope = EVERYONE,
) -> int:
    """How many people are registered (merged SPIDs not counted), in all or in one area.

    ``area`` is ``(level, code)``, e.g. ``("commune", "010201")``; only people in
    ``scope`` count.
    """
    query = select(func.count()).select_from(Person).where(Person.status != "merged")
    if not scope.unrestricted:
        query = query.where(in_scope(scope))
    if village_code is not None:
        area = ("village", village_code)
    if area is not None:
        query = query.where(_area_column(area[0]) == area[1])
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
