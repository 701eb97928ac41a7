"""Fuzzy search by name and birth date, ranked, with scores.

Candidates come from two indexes: the romanization-tolerant name key (both names'
consonant skeletons, in either order, so Sokh Dara finds Dara Sok), narrowed to nearby
birth years when a birth date is given, and the matcher's blocking keys. rapidfuzz then
ranks them on the names as written, and the birth date adds to the score.

Names written in Khmer script are looked up by the matcher's Khmer-name blocking key
(both names in canonical Khmer form, either order, with the birth year): the years near
the birth date given, or every possible birth year without one (a hundred-odd lookups of
the key's index); they are ranked on the Khmer names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from identity_store.dates import EARLIEST_BIRTH_YEAR
from identity_store.errors import InvalidInput
from identity_store.hygiene import clean_name
from identity_store.matching import MatchRecord, blocking_keys, khmer_name_keys
from identity_store.matching.normalize import khmer_name
from identity_store.models import BlockingKey, Person
from identity_store.names import name_key
from identity_store.repository import PersonRecord, among, people_by_spids
from identity_store.scope import EVERYONE, Scope, may_resolve

MAX_RESULTS = 100
# A common name can match thousands; rank at most this many (without a birth date the
# first ones of the name key in birth-date order: give a birth date to narrow).
MAX_CANDIDATES = 2000
MAX_CANDIDATES_WITHOUT_DATE = 500
BIRTH_YEAR_SLACK = 2
NAME_SHARE = 0.7  # of the score, when a birth date is given


@dataclass(frozen=True)
class SearchHit:
    """A person found, and how well they fit the search (0 to 1)."""

    person: PersonRecord
    score: float
    name_score: float
    birth_date_score: float | None


def _date_score(wanted: dt.date, precision: str, found: PersonRecord) -> float:
    if wanted.year != found.birth_date.year:
        return max(0.0, 1.0 - abs(wanted.year - found.birth_date.year) / 5) * 0.5
    if "year" in (precision, found.birth_precision):
        return 0.8
    if wanted.month != found.birth_date.month:
        return 0.6
    if "month" in (precision, found.birth_precision) or wanted.day == found.birth_date.day:
        return 1.0
    return 0.7


def is_khmer_script(text: str) -> bool:
    """Whether ``text`` is written in Khmer script (any character of the Khmer block)."""
    return any("\u1780" <= char <= "\u17ff" for char in text)


def _name_score(family_name: str, given_name: str, found: PersonRecord) -> float:
    if is_khmer_script(family_name + given_name):
        written = f"{khmer_name(family_name) or ''} {khmer_name(given_name) or ''}"
        registered = (
            f"{khmer_name(found.family_name_km) or ''} {khmer_name(found.given_name_km) or ''}"
        )
        return fuzz.token_sort_ratio(written, registered) / 100
    written = f"{family_name} {given_name}".upper()
    registered = f"{found.family_name} {found.given_name}".upper()
    # token_sort_ratio ignores the order, so swapped family and given names still score.
    return fuzz.token_sort_ratio(written, registered) / 100


async def search_people(
    session: AsyncSession,
    family_name: str,
    given_name: str,
    birth_date: dt.date | None = None,
    birth_precision: str = "day",
    limit: int = 10,
    *,
    scope: Scope = EVERYONE,
) -> list[SearchHit]:
    """The people who best fit the names (and birth date), best first.

    A merged SPID is answered by its survivor; each person appears once. Only people
    in ``scope`` are candidates: the scope is part of the candidate statements, so that
    the candidate caps are spent on people the caller may see.
    """
    family_name = clean_name(family_name, "familyName")
    given_name = clean_name(given_name, "givenName")
    if not family_name or not given_name:
        raise InvalidInput("give both a family name and a given name to search by name.")
    if not 1 <= limit <= MAX_RESULTS:
        raise InvalidInput(f"first must be between 1 and {MAX_RESULTS}; got {limit}.")
    if is_khmer_script(family_name + given_name):
        spids = await _khmer_candidates(session, family_name, given_name, birth_date, scope)
    else:
        spids = await _latin_candidates(
            session, family_name, given_name, birth_date, birth_precision, scope
        )
    found = await people_by_spids(session, spids, scope=scope)
    best: dict[str, SearchHit] = {}
    for person in found.values():
        name_score = _name_score(family_name, given_name, person)
        if birth_date is None:
            hit = SearchHit(person, round(name_score, 3), round(name_score, 3), None)
        else:
            date_score = _date_score(birth_date, birth_precision, person)
            score = NAME_SHARE * name_score + (1 - NAME_SHARE) * date_score
            hit = SearchHit(person, round(score, 3), round(name_score, 3), round(date_score, 3))
        held = best.get(person.spid)
        if held is None or hit.score > held.score:
            best[person.spid] = hit
    ranked = sorted(best.values(), key=lambda hit: (-hit.score, hit.person.spid))
    return ranked[:limit]


async def _latin_candidates(
    session: AsyncSession,
    family_name: str,
    given_name: str,
    birth_date: dt.date | None,
    birth_precision: str,
    scope: Scope,
) -> set[str]:
    key = name_key(family_name, given_name)
    query = select(Person.spid).where(Person.name_key == key)
    if not scope.unrestricted:
        query = query.where(may_resolve(scope))
    if birth_date is not None:
        query = query.where(
            Person.birth_date >= dt.date(birth_date.year - BIRTH_YEAR_SLACK, 1, 1),
            Person.birth_date <= dt.date(birth_date.year + BIRTH_YEAR_SLACK, 12, 31),
        )
    cap = MAX_CANDIDATES if birth_date is not None else MAX_CANDIDATES_WITHOUT_DATE
    spids = set(await session.scalars(query.limit(cap)))
    record = MatchRecord(
        family_name=family_name,
        given_name=given_name,
        birth_date=birth_date,
        birth_precision="year" if birth_precision == "year" else "day",
    )
    spids |= await _keyed(session, blocking_keys(record), scope)
    return spids


async def _khmer_candidates(
    session: AsyncSession,
    family_name: str,
    given_name: str,
    birth_date: dt.date | None,
    scope: Scope,
) -> set[str]:
    if birth_date is None:
        # The key carries the birth year: without one, every year a registered person
        # can have been born in (the registry refuses earlier and later ones).
        years = range(EARLIEST_BIRTH_YEAR, dt.date.today().year + 1)
        cap = MAX_CANDIDATES_WITHOUT_DATE
    else:
        years = range(birth_date.year - BIRTH_YEAR_SLACK, birth_date.year + BIRTH_YEAR_SLACK + 1)
        cap = MAX_CANDIDATES
    return await _keyed(session, khmer_name_keys(family_name, given_name, years), scope, cap)


async def _keyed(
    session: AsyncSession, keys: Iterable[str], scope: Scope, cap: int = MAX_CANDIDATES
) -> set[str]:
    """The people in ``scope`` holding any of the matcher's blocking ``keys`` (capped)."""
    wanted = sorted(keys)
    if not wanted:
        return set()
    query = select(BlockingKey.spid).where(among(session, BlockingKey.key, wanted))
    if not scope.unrestricted:
        query = query.join(Person, Person.spid == BlockingKey.spid).where(may_resolve(scope))
    return set(await session.scalars(query.limit(cap)))
