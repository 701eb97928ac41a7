"""Registering people: idempotent, de-duplicated, one transaction per batch.

The decision itself is :func:`identity_store.decision.decide` (pure); this module looks up
what it needs (earlier answers, Khmer IDs, candidates sharing a blocking key) with one
query each per batch, and writes the outcome: people, blocking keys, programme links,
review cases, idempotency records and history.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import weakref
from collections import defaultdict
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from sqlalchemy import insert, select, text, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store.decision import Candidate, Outcome, RegistrationDecision, decide
from identity_store.errors import InvalidInput, RegistryError
from identity_store.hygiene import check_text
from identity_store.matching import FieldAgreement, MatchModel, MatchRecord, blocking_keys
from identity_store.models import (
    BlockingKey,
    Person,
    ProgramLink,
    RegistrationEvent,
    RegistrationRequest,
    ReviewCase,
)
from identity_store.repository import (
    NewPerson,
    among,
    check_new_person,
    clean_person,
    key_rows,
    match_record,
    person_row,
    resolve_spids,
)
from identity_store.spid import new_spid

T = TypeVar("T")

_CANDIDATE_COLUMNS = (
    Person.spid,
    Person.khmer_id,
    Person.family_name,
    Person.given_name,
    Person.family_name_km,
    Person.given_name_km,
    Person.birth_date,
    Person.birth_precision,
    Person.sex,
    Person.village_code,
    Person.phone,
    Person.status,
    Person.merged_into,
)
MAX_FIELD = {"operator": 32, "programme": 64, "local_id": 64, "idempotency_key": 128}
DEFAULT_BATCH_SIZE = 500


@dataclass(frozen=True)
class Registration:
    """One operator's request to register a person it serves under its own local ID."""

    operator: str
    programme: str
    local_id: str
    family_name: str
    given_name: str
    birth_date: dt.date
    sex: str
    village_code: str
    birth_precision: str = "day"
    khmer_id: str | None = None
    family_name_km: str | None = None
    given_name_km: str | None = None
    phone: str | None = None  # as repository.normalize_phone gives it
    since: dt.date | None = None  # when the person joined the programme
    idempotency_key: str | None = None
    registered_by: str | None = None  # the operator's user, for the history


@dataclass(frozen=True)
class RegistrationResult:
    """The SPID a registration got, the decision, and the score and reasons behind it."""

    spid: str
    decision: Outcome
    probability: float | None
    weight: float | None
    reasons: tuple[FieldAgreement, ...]
    # The person a review case compares with; None when the record claimed their Khmer ID.
    candidate_spid: str | None = None
    review_case_id: int | None = None
    replayed: bool = False  # the same request was answered before; nothing was written


class IdempotencyConflict(InvalidInput):
    """An idempotency key reused for a different request."""


def clean_registration(registration: Registration) -> Registration:
    """``registration`` with its names and Khmer ID as the registry stores them.

    The operator's identifiers and the user's name are kept as sent, but may not hold
    the characters :func:`identity_store.hygiene.check_text` refuses.
    """
    for name in (*MAX_FIELD, "registered_by"):
        value = getattr(registration, name)
        if value is not None:
            check_text(value, name)
    person = clean_person(_person_of(registration, "0" * 12))
    return replace(
        registration,
        family_name=person.family_name,
        given_name=person.given_name,
        family_name_km=person.family_name_km,
        given_name_km=person.given_name_km,
        khmer_id=person.khmer_id,
    )


def check_registration(registration: Registration, spid: str | None = None) -> NewPerson:
    """The person ``registration`` would add, or :class:`InvalidInput` saying what is wrong."""
    registration = clean_registration(registration)
    for name, limit in MAX_FIELD.items():
        value = getattr(registration, name)
        if value is None:
            continue
        if not value.strip():
            raise InvalidInput(f"{name} must not be empty.")
        if len(value) > limit:
            raise InvalidInput(f"{name} is at most {limit} characters.")
    person = _person_of(registration, spid or new_spid())
    check_new_person(person)
    return person


def _person_of(registration: Registration, spid: str) -> NewPerson:
    return NewPerson(
        spid=spid,
        khmer_id=registration.khmer_id,
        family_name=registration.family_name,
        given_name=registration.given_name,
        birth_date=registration.birth_date,
        sex=registration.sex,
        village_code=registration.village_code,
        family_name_km=registration.family_name_km,
        given_name_km=registration.given_name_km,
        birth_precision=registration.birth_precision,
        phone=registration.phone,
    )


def request_hash(registration: Registration) -> str:
    """A digest of what was asked, to tell a replay from a different request."""
    values = {
        name: getattr(registration, name)
        for name in Registration.__dataclass_fields__
        if name not in ("idempotency_key", "registered_by")
    }
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def register_person(
    sessions: async_sessionmaker[AsyncSession],
    registration: Registration,
    model: MatchModel | None = None,
) -> RegistrationResult:
    """Register one person (see :func:`register_batch`)."""
    (result,) = await register_batch(sessions, [registration], model)
    return result


async def register_people(
    sessions: async_sessionmaker[AsyncSession],
    registrations: Iterable[Registration] | AsyncIterable[Registration],
    model: MatchModel | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> AsyncIterator[RegistrationResult]:
    """Register a backlog, batch by batch, yielding each result as its batch commits.

    A record is matched against the registry and against the earlier records of the
    backlog. A batch with an invalid record raises :class:`InvalidInput` before anything
    of that batch is written; earlier batches stay (check records first with
    :func:`check_registration` to skip bad ones).
    """
    model = model or MatchModel.default()
    batch: list[Registration] = []
    async for registration in _aiter(registrations):
        batch.append(registration)
        if len(batch) >= batch_size:
            for result in await register_batch(sessions, batch, model):
                yield result
            batch = []
    if batch:
        for result in await register_batch(sessions, batch, model):
            yield result


async def _aiter(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


async def register_batch(
    sessions: async_sessionmaker[AsyncSession],
    registrations: Sequence[Registration],
    model: MatchModel | None = None,
) -> list[RegistrationResult]:
    """Register ``registrations`` in one transaction; results in the same order.

    Every record is checked first: :class:`InvalidInput` (naming the record) leaves
    nothing stored. A request answered before (same operator and local ID, or same
    idempotency key) gets the same answer again with ``replayed`` set.
    """
    model = model or MatchModel.default()
    people: list[NewPerson] = []
    cleaned: list[Registration] = []
    for index, registration in enumerate(registrations):
        try:
            # Cleaned first, so that a replay of the same record with a stray space or
            # zero-width character is the same request (the same hash), not a conflict.
            cleaned.append(clean_registration(registration))
            people.append(check_registration(cleaned[-1]))
        except InvalidInput as error:
            prefix = f"registration {index + 1}: " if len(registrations) > 1 else ""
            raise type(error)(prefix + str(error)) from None
    registrations = cleaned
    records = [match_record(person) for person in people]
    keys_of = [blocking_keys(record) for record in records]
    names = _lock_names(registrations, people, keys_of)
    for attempt in range(2):
        try:
            async with _serialized(sessions), sessions.begin() as session:
                await _lock(session, names)
                return await _Batch(session, model, registrations, people, records, keys_of).run()
        except IntegrityError:
            # Another process registered one of these at the same moment: the retry
            # finds its answer and replays it.
            if attempt == 1:
                raise RegistryError(
                    "a concurrent registration kept colliding with this batch; send it again."
                ) from None
    raise AssertionError("unreachable")


# SQLite has one writer at a time; registrations through one engine wait their turn here
# instead of reading candidates side by side and each issuing a SPID for the same person.
_SQLITE_LOCKS: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def _lock_names(
    registrations: Sequence[Registration],
    people: Sequence[NewPerson],
    keys_of: Sequence[frozenset[str]],
) -> list[str]:
    """What two concurrent batches must not decide side by side: shared keys and requests."""
    names: set[str] = set()
    for registration, person, keys in zip(registrations, people, keys_of, strict=True):
        names |= keys
        if person.khmer_id is not None:
            names.add(f"khmer_id:{person.khmer_id}")
        names.add(f"request:{registration.operator}:{registration.local_id}")
        if registration.idempotency_key:
            names.add(f"key:{registration.operator}:{registration.idempotency_key}")
    return sorted(names)


@contextlib.asynccontextmanager
async def _serialized(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    bind = sessions.kw.get("bind")
    if bind is None or bind.dialect.name != "sqlite":
        yield
        return
    lock = _SQLITE_LOCKS.setdefault(bind.sync_engine, asyncio.Lock())
    async with lock:
        yield


async def _lock(session: AsyncSession, names: list[str]) -> None:
    """On PostgreSQL, lock what this batch decides on until its transaction ends.

    A small batch (a single registration, most often) takes a shared lock on the
    registry-wide registration lock, then an advisory lock on each of its blocking keys,
    Khmer IDs and requests, in one sorted order (no deadlock): it waits only for another
    registration in flight that may be the same person. A large batch (a backlog) takes the
    registration lock exclusively instead, one lock rather than thousands — PostgreSQL's
    lock table is small (max_locks_per_transaction times max_connections) and concurrent
    backlogs locking every key ran out of it.
    """
    if session.get_bind().dialect.name != "postgresql" or not names:
        return
    ids = sorted({_lock_id(name) for name in names})
    if len(ids) > MAX_KEY_LOCKS:
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _REGISTRATION_LOCK})
        return
    await session.execute(
        text("SELECT pg_advisory_xact_lock_shared(:id)"), {"id": _REGISTRATION_LOCK}
    )
    await session.execute(
        text("SELECT pg_advisory_xact_lock(id) FROM unnest(CAST(:ids AS bigint[])) AS id"),
        {"ids": ids},
    )


def _lock_id(name: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


# Past this many key locks a batch locks registration as a whole (see _lock).
MAX_KEY_LOCKS = 64
_REGISTRATION_LOCK = _lock_id("tonle:registration")


@dataclass
class _Batch:
    session: AsyncSession
    model: MatchModel
    registrations: Sequence[Registration]
    people: list[NewPerson]
    records: list[MatchRecord]
    keys_of: list[frozenset[str]]
    new_people: list[NewPerson] = field(default_factory=list)
    links: list[dict[str, object]] = field(default_factory=list)
    requests: list[dict[str, object]] = field(default_factory=list)
    events: list[dict[str, object]] = field(default_factory=list)
    khmer_ids_to_fill: dict[str, str] = field(default_factory=dict)

    async def run(self) -> list[RegistrationResult]:
        answered = await self._earlier_answers()
        hashes = [request_hash(r) for r in self.registrations]
        records, keys_of = self.records, self.keys_of
        candidates_by_key, by_khmer_id = await self._candidates(keys_of)
        # Records of this batch become candidates for its later records.
        batch_by_key: dict[str, list[Candidate]] = defaultdict(list)
        batch_by_khmer_id: dict[str, Candidate] = {}
        results: list[RegistrationResult] = []
        seen: dict[tuple[str, str], RegistrationResult] = {}
        for registration, person, digest, record, keys in zip(
            self.registrations, self.people, hashes, records, keys_of, strict=True
        ):
            earlier = _replay(registration, digest, answered, seen)
            if earlier is not None:
                results.append(earlier)
                continue
            pool: dict[str, Candidate] = {}
            for key in keys:
                for candidate in (*candidates_by_key.get(key, ()), *batch_by_key.get(key, ())):
                    pool[candidate.spid] = candidate
            if person.khmer_id is not None:
                for found in (
                    by_khmer_id.get(person.khmer_id),
                    batch_by_khmer_id.get(person.khmer_id),
                ):
                    if found is not None:
                        pool[found.spid] = found
            decision = decide(record, person.khmer_id, list(pool.values()), self.model)
            if decision.khmer_id_claimed:
                # The ID stays with its holder; the provisional person is stored without it.
                person, record = replace(person, khmer_id=None), replace(record, khmer_id=None)
            result = await self._apply(registration, person, decision, digest)
            results.append(result)
            seen[(registration.operator, registration.local_id)] = result
            if result.decision in ("new", "review"):
                candidate = Candidate(person.spid, person.spid, person.khmer_id, record)
                for key in keys:
                    batch_by_key[key].append(candidate)
                if person.khmer_id is not None:
                    batch_by_khmer_id[person.khmer_id] = candidate
            elif person.khmer_id is not None and decision.spid is not None:
                self._fill_khmer_id(decision.spid, person.khmer_id, pool)
        await self._write()
        return results

    async def _earlier_answers(self) -> dict[tuple[str, str], RegistrationRequest]:
        """Earlier answers by (operator, local_id) and by (operator, "key:" + idempotency key)."""
        pairs = list({(r.operator, r.local_id) for r in self.registrations})
        keyed = list(
            {(r.operator, r.idempotency_key) for r in self.registrations if r.idempotency_key}
        )
        found: dict[tuple[str, str], RegistrationRequest] = {}
        table = RegistrationRequest
        if pairs:
            rows = await self.session.scalars(
                select(table).where(tuple_(table.operator, table.local_id).in_(pairs))
            )
            for row in rows:
                found[(row.operator, row.local_id)] = row
        if keyed:
            rows = await self.session.scalars(
                select(table).where(tuple_(table.operator, table.idempotency_key).in_(keyed))
            )
            for row in rows:
                found[(row.operator, f"key:{row.idempotency_key}")] = row
        return found

    async def _candidates(
        self, keys_of: list[frozenset[str]]
    ) -> tuple[dict[str, list[Candidate]], dict[str, Candidate]]:
        """Registered people sharing a blocking key or the Khmer ID with a record of the batch."""
        keys = sorted({key for keys in keys_of for key in keys})
        khmer_ids = sorted({p.khmer_id for p in self.people if p.khmer_id is not None})
        spids_by_key: dict[str, list[str]] = defaultdict(list)
        if keys:
            rows = await self.session.execute(
                select(BlockingKey.key, BlockingKey.spid).where(
                    among(self.session, BlockingKey.key, keys)
                )
            )
            for key, spid in rows:
                spids_by_key[key].append(spid)
        wanted = sorted({spid for spids in spids_by_key.values() for spid in spids})
        # Plain rows, not ORM objects: a batch at a million people loads thousands.
        found: dict[str, Any] = {}
        if wanted:
            for row in await self.session.execute(
                select(*_CANDIDATE_COLUMNS).where(among(self.session, Person.spid, wanted))
            ):
                found[row.spid] = row
        if khmer_ids:
            for row in await self.session.execute(
                select(*_CANDIDATE_COLUMNS).where(among(self.session, Person.khmer_id, khmer_ids))
            ):
                found[row.spid] = row
        survivors = await resolve_spids(
            self.session, {row.spid: (row.status, row.merged_into) for row in found.values()}
        )
        candidates = {
            spid: Candidate(
                spid,
                survivors[spid],
                row.khmer_id,
                MatchRecord(
                    family_name=row.family_name,
                    given_name=row.given_name,
                    family_name_km=row.family_name_km,
                    given_name_km=row.given_name_km,
                    birth_date=row.birth_date,
                    birth_precision=row.birth_precision,
                    sex=row.sex,
                    village_code=row.village_code,
                    phone=row.phone,
                    khmer_id=row.khmer_id,
                ),
            )
            for spid, row in found.items()
        }
        by_key = {
            key: [candidates[spid] for spid in spids if spid in candidates]
            for key, spids in spids_by_key.items()
        }
        by_khmer_id = {c.khmer_id: c for c in candidates.values() if c.khmer_id is not None}
        return by_key, by_khmer_id

    def _fill_khmer_id(self, spid: str, khmer_id: str, pool: dict[str, Candidate]) -> None:
        """A match on a person registered without a Khmer ID gives them this one."""
        holder = next((c for c in pool.values() if c.resolves_to == spid), None)
        if holder is None or holder.khmer_id is not None:
            return
        if khmer_id in self.khmer_ids_to_fill.values():
            return
        for index, person in enumerate(self.new_people):
            if person.spid == spid:
                if person.khmer_id is None:
                    self.new_people[index] = replace(person, khmer_id=khmer_id)
                return
        self.khmer_ids_to_fill[spid] = khmer_id

    async def _apply(
        self,
        registration: Registration,
        person: NewPerson,
        decision: RegistrationDecision,
        digest: str,
    ) -> RegistrationResult:
        score = decision.score
        reasons = score.reasons if score is not None else ()
        case_id: int | None = None
        candidate: str | None = None
        if decision.outcome in ("khmer_id", "match") and decision.spid is not None:
            spid = decision.spid
        else:
            spid = person.spid
            status = "provisional" if decision.outcome == "review" else "active"
            self.new_people.append(replace(person, status=status))
        if decision.outcome == "review" and decision.spid is not None and score is not None:
            candidate = decision.spid
            # The person must exist before the case can point at them.
            await self._write_people()
            case_reasons: dict[str, object] = {
                "reasons": _reasons_json(reasons),
                "candidate": candidate,
            }
            if decision.khmer_id_claimed:
                case_reasons["khmer_id_claimed"] = True
            case = ReviewCase(
                spid=spid,
                candidate_spid=candidate,
                probability=score.probability,
                weight=score.weight,
                reasons=case_reasons,
            )
            self.session.add(case)
            await self.session.flush()
            case_id = case.id
        # The holder of a claimed Khmer ID is for reviewers only: the answer (and its
        # replay) and the new person's history do not name them.
        answered_candidate = None if decision.khmer_id_claimed else candidate
        self.links.append(
            {
                "spid": spid,
                "origin_spid": spid,
                "operator": registration.operator,
                "programme": registration.programme,
                "local_id": registration.local_id,
                "since": registration.since,
            }
        )
        self.requests.append(
            {
                "operator": registration.operator,
                "local_id": registration.local_id,
                "idempotency_key": registration.idempotency_key,
                "request_hash": digest,
                "spid": spid,
                "decision": decision.outcome,
                "probability": score.probability if score else None,
                "weight": score.weight if score else None,
                "reasons": (
                    {"reasons": _reasons_json(reasons), "candidate": answered_candidate}
                    if score
                    else None
                ),
                "review_case_id": case_id,
            }
        )
        detail: dict[str, object] = {
            "decision": decision.outcome,
            "programme": registration.programme,
        }
        if score is not None:
            detail["probability"] = round(score.probability, 6)
        if case_id is not None:
            detail["review_case"] = case_id
        if decision.khmer_id_claimed:
            detail["khmer_id_claimed"] = True
        self.events.append(
            {
                "spid": spid,
                "kind": "linked" if spid != person.spid else "registered",
                "operator": registration.operator,
                "actor": registration.registered_by,
                "other_spid": answered_candidate,
                "detail": detail,
            }
        )
        return RegistrationResult(
            spid=spid,
            decision=decision.outcome,
            probability=score.probability if score else None,
            weight=score.weight if score else None,
            reasons=reasons,
            candidate_spid=answered_candidate,
            review_case_id=case_id,
        )

    async def _write_people(self) -> None:
        if not self.new_people:
            return
        await self.session.execute(insert(Person), [person_row(p) for p in self.new_people])
        keys = key_rows(self.new_people)
        if keys:
            await self.session.execute(insert(BlockingKey), keys)
        self.new_people = []

    async def _write(self) -> None:
        await self._write_people()
        for spid, khmer_id in self.khmer_ids_to_fill.items():
            await self.session.execute(
                update(Person)
                .where(Person.spid == spid, Person.khmer_id.is_(None))
                .values(khmer_id=khmer_id)
            )
            self.events.append(
                {"spid": spid, "kind": "changed", "detail": {"fields": ["khmer_id"]}}
            )
        if self.links:
            await self.session.execute(insert(ProgramLink), self.links)
        if self.requests:
            await self.session.execute(insert(RegistrationRequest), self.requests)
        if self.events:
            await self.session.execute(insert(RegistrationEvent), self.events)


def _replay(
    registration: Registration,
    digest: str,
    answered: dict[tuple[str, str], RegistrationRequest],
    seen: dict[tuple[str, str], RegistrationResult],
) -> RegistrationResult | None:
    """The earlier answer to this request, if there is one."""
    if registration.idempotency_key:
        row = answered.get((registration.operator, f"key:{registration.idempotency_key}"))
        if row is not None:
            if row.request_hash != digest:
                raise IdempotencyConflict(
                    "this idempotency key was already used for a different registration; "
                    "use a new key for a new request."
                )
            return _result_of(row)
    row = answered.get((registration.operator, registration.local_id))
    if row is not None:
        return _result_of(row)
    same = seen.get((registration.operator, registration.local_id))
    if same is not None:
        return replace(same, replayed=True)
    return None


def _result_of(row: RegistrationRequest) -> RegistrationResult:
    reasons = tuple(
        FieldAgreement(r["comparison"], r["level"], r["weight"])
        for r in (row.reasons or {}).get("reasons", [])
    )
    return RegistrationResult(
        spid=row.spid,
        decision=row.decision,  # type: ignore[arg-type]
        probability=row.probability,
        weight=row.weight,
        reasons=reasons,
        candidate_spid=(row.reasons or {}).get("candidate"),
        review_case_id=row.review_case_id,
        replayed=True,
    )


def _reasons_json(reasons: Iterable[FieldAgreement]) -> list[dict[str, object]]:
    return [{"comparison": r.comparison, "level": r.level, "weight": r.weight} for r in reasons]
