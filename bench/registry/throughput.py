"""Registration throughput and lookup latency with a registry already full of people.

For each backend (SQLite, PostgreSQL) and each size (100,000 and 1,000,000 people by
default), the registry is migrated and pre-filled with a fast bulk load (COPY through
asyncpg on PostgreSQL, executemany on SQLite) of synthetic people — Khmer names in both
scripts, real gazetteer villages, Cambodia's age structure — with their blocking keys.
Then it measures:

- registrations per second with de-duplication (``register_people`` in batches of 500,
  and ``register_person`` one at a time), on a mix of new people and duplicates of
  registered ones (same Khmer ID from another village, swapped names, year-only birth
  date); beside it, the baseline most registries run today: an exact Khmer ID lookup,
  then an insert;
- SPID lookup and fuzzy name search latency, p50 and p99.

    python -m bench.registry.throughput
    BENCH_REGISTRY_SIZES=100000 BENCH_REGISTRY_BACKENDS=postgresql make bench-registry

``TONLE_BENCH_POSTGRES_URL`` (default: ``TONLE_TEST_POSTGRES_URL``, else the local test
database) names the PostgreSQL to use; the benchmark works in a schema of its own and
drops it at the end.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from identity_store import (
    NewPerson,
    Registration,
    add_people,
    create_engine,
    load_gazetteer,
    match_record,
    migrate,
    people_by_spids,
    person_by_khmer_id,
    register_people,
    register_person,
    search_people,
    session_factory,
    url_with_schema,
)
from identity_store.gazetteer import area_codes
from identity_store.matching import MatchModel, blocking_keys
from identity_store.models import Person
from identity_store.names import name_key
from identity_store.spid import verhoeff_check_digit
from sandbox.population import FAMILY_NAMES, FEMALE_NAMES, MALE_NAMES, all_village_codes

REFERENCE_DATE = dt.date(2026, 11, 1)
CHUNK = 20_000
BATCH = 500
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PERSON_COLUMNS = (
    "spid",
    "khmer_id",
    "family_name",
    "given_name",
    "birth_date",
    "sex",
    "village_code",
    "family_name_km",
    "given_name_km",
    "birth_precision",
    "phone",
    "commune_code",
    "district_code",
    "province_code",
    "name_key",
    "status",
)


@dataclass(frozen=True)
class Figures:
    """What one (backend, size) run measured."""

    backend: str
    size: int
    fill_seconds: float
    batch_rate: float
    single_rate: float
    baseline_rate: float
    decisions: dict[str, int]
    spid_ms: tuple[float, float]
    khmer_id_ms: tuple[float, float]
    search_ms: tuple[float, float]
    search_no_date_ms: tuple[float, float]
    search_khmer_ms: tuple[float, float]  # Khmer-script names, no birth date


def synthetic_people(count: int, seed: int) -> Iterator[NewPerson]:
    """``count`` registrants, fast: no households, everything else as the population's."""
    rng = random.Random(seed)
    villages = all_village_codes()
    khmer_ids: set[int] = set()
    spids: set[int] = set()  # 11 random digits: a million draws collide a few times
    for _ in range(count):
        # About 29% under 15 (no Khmer ID); the rest up to 90, fewer as they age.
        age = rng.randrange(15) if rng.random() < 0.29 else 15 + int(rng.triangular(0, 75, 0))
        sex = "male" if rng.random() < 0.49 else "female"
        family, family_km = rng.choice(FAMILY_NAMES)
        given, given_km = rng.choice(MALE_NAMES if sex == "male" else FEMALE_NAMES)
        khmer_id = None
        if age >= 15 and rng.random() < 0.9:
            number = rng.randrange(10**8, 10**9)
            while number in khmer_ids:
                number = rng.randrange(10**8, 10**9)
            khmer_ids.add(number)
            khmer_id = str(number)
        number = rng.randrange(10**11)
        while number in spids:
            number = rng.randrange(10**11)
        spids.add(number)
        body = f"{number:011d}"
        born = REFERENCE_DATE - dt.timedelta(days=365 * age + rng.randrange(365))
        yield NewPerson(
            spid=body + verhoeff_check_digit(body),
            khmer_id=khmer_id,
            family_name=family,
            given_name=given,
            birth_date=born,
            sex=sex,
            village_code=rng.choice(villages),
            family_name_km=family_km,
            given_name_km=given_km,
            phone=f"0{rng.randrange(10**8, 10**9)}" if rng.random() < 0.4 else None,
        )


def _chunks(people: Iterator[NewPerson], size: int) -> Iterator[list[NewPerson]]:
    chunk: list[NewPerson] = []
    for person in people:
        chunk.append(person)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _person_tuple(person: NewPerson) -> tuple[object, ...]:
    codes = area_codes(person.village_code)
    return (
        person.spid,
        person.khmer_id,
        person.family_name,
        person.given_name,
        person.birth_date,
        person.sex,
        person.village_code,
        person.family_name_km,
        person.given_name_km,
        person.birth_precision,
        person.phone,
        codes["commune_code"],
        codes["district_code"],
        codes["province_code"],
        name_key(person.family_name, person.given_name),
        "active",
    )


def _key_tuples(people: Sequence[NewPerson]) -> list[tuple[str, str]]:
    return [(key, p.spid) for p in people for key in blocking_keys(match_record(p))]


async def fill_postgres(url: str, size: int, seed: int, sample: list[NewPerson]) -> None:
    """COPY ``size`` people and their blocking keys into the schema of ``url``."""
    import asyncpg  # type: ignore[import-untyped]

    parsed = make_url(url)
    schema = parsed.query["search_path"]
    dsn = parsed.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, server_settings={"search_path": str(schema)})
    try:
        for chunk in _chunks(synthetic_people(size, seed), CHUNK):
            _keep_sample(sample, chunk)
            await connection.copy_records_to_table(
                "person", records=[_person_tuple(p) for p in chunk], columns=PERSON_COLUMNS
            )
            await connection.copy_records_to_table(
                "blocking_key", records=_key_tuples(chunk), columns=("key", "spid")
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def fill_sqlite(path: Path, size: int, seed: int, sample: list[NewPerson]) -> None:
    """executemany ``size`` people and their blocking keys into the SQLite file."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        marks = ", ".join("?" for _ in PERSON_COLUMNS)
        insert_person = f"INSERT INTO person ({', '.join(PERSON_COLUMNS)}) VALUES ({marks})"
        for chunk in _chunks(synthetic_people(size, seed), CHUNK):
            _keep_sample(sample, chunk)
            rows = [
                tuple(v.isoformat() if isinstance(v, dt.date) else v for v in _person_tuple(p))
                for p in chunk
            ]
            connection.executemany(insert_person, rows)
            connection.executemany(
                "INSERT INTO blocking_key (key, spid) VALUES (?, ?)", _key_tuples(chunk)
            )
            connection.commit()
        connection.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()


def _keep_sample(sample: list[NewPerson], chunk: list[NewPerson]) -> None:
    # A few hundred registered people per chunk: duplicates and lookups are drawn from them.
    sample.extend(chunk[:: max(1, len(chunk) // 300)])


def workload(count: int, seed: int, registered: Sequence[NewPerson]) -> list[Registration]:
    """``count`` registrations: about 70% new people, 30% duplicates of registered ones."""
    rng = random.Random(seed)
    fresh = synthetic_people(count, seed + 1_000_003)
    villages = all_village_codes()
    registrations = []
    for index in range(count):
        person = next(fresh)
        if rng.random() < 0.3:
            original = rng.choice(registered)
            kind = rng.randrange(3)
            if kind == 0 and original.khmer_id:  # moved, same Khmer ID
                person = replace(original, village_code=rng.choice(villages))
            elif kind == 1:  # family and given name swapped, no Khmer ID
                person = replace(
                    original,
                    khmer_id=None,
                    family_name=original.given_name,
                    given_name=original.family_name,
                )
            else:  # only the birth year known
                person = replace(
                    original,
                    khmer_id=None,
                    birth_date=dt.date(original.birth_date.year, 1, 1),
                    birth_precision="year",
                )
        registrations.append(
            Registration(
                operator="bench",
                programme="throughput",
                local_id=f"{seed}-{index}",
                family_name=person.family_name,
                given_name=person.given_name,
                birth_date=person.birth_date,
                birth_precision=person.birth_precision,
                sex=person.sex,
                village_code=person.village_code,
                khmer_id=person.khmer_id,
                family_name_km=person.family_name_km,
                given_name_km=person.given_name_km,
                phone=person.phone,
            )
        )
    return registrations


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


async def measure(backend: str, url: str, size: int, *, seed: int = 5) -> Figures:
    """Migrate, fill, and measure one (backend, size)."""
    await migrate(url)
    sample: list[NewPerson] = []
    started = time.perf_counter()
    if backend == "postgresql":
        await fill_postgres(url, size, seed, sample)
    else:
        database = make_url(url).database
        assert database is not None
        await asyncio.to_thread(fill_sqlite, Path(database), size, seed, sample)
    fill_seconds = time.perf_counter() - started

    engine = create_engine(url)
    sessions = session_factory(engine)
    model = MatchModel.default()
    # As the identity subgraph does at startup (subgraphs/identity/app.py).
    load_gazetteer()
    gc.collect()
    gc.freeze()
    try:
        registrations = workload(int(os.environ.get("BENCH_REGISTRATIONS", "3000")), seed, sample)
        started = time.perf_counter()
        decisions: dict[str, int] = {}
        async for result in register_people(sessions, registrations, model, batch_size=BATCH):
            decisions[result.decision] = decisions.get(result.decision, 0) + 1
        batch_rate = len(registrations) / (time.perf_counter() - started)

        singles = workload(300, seed + 1, sample)
        started = time.perf_counter()
        for registration in singles:
            await register_person(sessions, registration, model)
        single_rate = len(singles) / (time.perf_counter() - started)

        baseline_rate = await _baseline(sessions, workload(3000, seed + 2, sample))

        spid_samples, khmer_samples, search_samples, loose_samples = [], [], [], []
        rng = random.Random(seed)
        probes = rng.sample(sample, min(1000, len(sample)))
        # A session per lookup, as the subgraph opens one per request.
        for person in probes:
            async with sessions() as session:
                started = time.perf_counter()
                await people_by_spids(session, [person.spid])
                spid_samples.append(time.perf_counter() - started)
        for person in probes[:500]:
            if person.khmer_id:
                async with sessions() as session:
                    started = time.perf_counter()
                    await person_by_khmer_id(session, person.khmer_id)
                    khmer_samples.append(time.perf_counter() - started)
        for person in probes[:300]:
            # Swapped order and a romanization variant of the family name.
            family = person.family_name
            if family[-1] in "kn":
                family += "h"
            async with sessions() as session:
                started = time.perf_counter()
                await search_people(session, person.given_name, family, person.birth_date)
                search_samples.append(time.perf_counter() - started)
        for person in probes[300:600]:
            async with sessions() as session:
                started = time.perf_counter()
                await search_people(session, person.family_name, person.given_name)
                loose_samples.append(time.perf_counter() - started)
        khmer_name_samples = []
        for person in probes[600:900]:
            if person.family_name_km and person.given_name_km:
                # Khmer script, no birth date: every birth year's key is looked up.
                async with sessions() as session:
                    started = time.perf_counter()
                    await search_people(session, person.given_name_km, person.family_name_km)
                    khmer_name_samples.append(time.perf_counter() - started)
    finally:
        await engine.dispose()
    return Figures(
        backend=backend,
        size=size,
        fill_seconds=fill_seconds,
        batch_rate=batch_rate,
        single_rate=single_rate,
        baseline_rate=baseline_rate,
        decisions=decisions,
        spid_ms=_percentiles(spid_samples),
        khmer_id_ms=_percentiles(khmer_samples),
        search_ms=_percentiles(search_samples),
        search_no_date_ms=_percentiles(loose_samples),
        search_khmer_ms=_percentiles(khmer_name_samples),
    )


async def _baseline(sessions: object, registrations: list[Registration]) -> float:
    """Exact Khmer ID lookup, then insert: today's registries, on the same tables."""
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    assert isinstance(sessions, async_sessionmaker)
    typed: async_sessionmaker[AsyncSession] = sessions
    rng = random.Random(7)
    started = time.perf_counter()
    for start in range(0, len(registrations), BATCH):
        batch = registrations[start : start + BATCH]
        ids = [r.khmer_id for r in batch if r.khmer_id]
        async with typed() as session:
            known = set(
                await session.scalars(select(Person.khmer_id).where(Person.khmer_id.in_(ids)))
            )
        new = [
            NewPerson(
                spid=(body := f"{rng.randrange(10**11):011d}") + verhoeff_check_digit(body),
                khmer_id=r.khmer_id,
                family_name=r.family_name,
                given_name=r.given_name,
                birth_date=r.birth_date,
                sex=r.sex,
                village_code=r.village_code,
                birth_precision=r.birth_precision,
            )
            for r in batch
            if r.khmer_id not in known or r.khmer_id is None
        ]
        new = list({p.khmer_id or p.spid: p for p in new}.values())
        await add_people(typed, new)
    return len(registrations) / (time.perf_counter() - started)


def _format(figures: list[Figures]) -> str:
    lines = [
        "registrations per second (mix: ~70% new people, ~30% duplicates of registered ones)",
        f"{'backend':<11} {'registered':>10} {'fill s':>7} {'batch/s':>8} {'single/s':>9} "
        f"{'baseline/s':>11}  decisions",
    ]
    for f in figures:
        decisions = " ".join(f"{k}={v}" for k, v in sorted(f.decisions.items()))
        lines.append(
            f"{f.backend:<11} {f.size:>10,} {f.fill_seconds:>7.0f} {f.batch_rate:>8.0f} "
            f"{f.single_rate:>9.0f} {f.baseline_rate:>11.0f}  {decisions}"
        )
    lines += [
        "",
        "lookup latency, ms (p50 / p99); Khmer name: both names in Khmer script, no date",
        f"{'backend':<11} {'registered':>10} {'by SPID':>14} {'by Khmer ID':>14} "
        f"{'name+date':>14} {'name only':>14} {'Khmer name':>14}",
    ]
    for f in figures:
        cells = [
            f"{p50:.2f} / {p99:.2f}"
            for p50, p99 in (
                f.spid_ms,
                f.khmer_id_ms,
                f.search_ms,
                f.search_no_date_ms,
                f.search_khmer_ms,
            )
        ]
        lines.append(f"{f.backend:<11} {f.size:>10,} " + " ".join(f"{cell:>14}" for cell in cells))
    lines += [
        "",
        "batch/s: register_people, batches of 500, de-duplicated against the registry and",
        "the batch; single/s: register_person, one transaction each; baseline/s: exact",
        "Khmer ID lookup then insert (no fuzzy matching), in batches of 500.",
    ]
    return "\n".join(lines)


async def run() -> list[Figures]:
    sizes = [int(s) for s in os.environ.get("BENCH_REGISTRY_SIZES", "100000,1000000").split(",")]
    backends = os.environ.get("BENCH_REGISTRY_BACKENDS", "sqlite,postgresql").split(",")
    base = (
        os.environ.get("TONLE_BENCH_POSTGRES_URL")
        or os.environ.get("TONLE_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES
    )
    figures = []
    for size in sizes:
        for backend in backends:
            print(f"… {backend}, {size:,} people registered", flush=True)
            if backend == "sqlite":
                with tempfile.TemporaryDirectory() as folder:
                    url = f"sqlite+aiosqlite:///{Path(folder) / 'registry.db'}"
                    figures.append(await measure(backend, url, size))
            else:
                figures.append(await _in_schema(base, size))
            print(_format(figures[-1:]).splitlines()[2], flush=True)
    return figures


async def _in_schema(base: str, size: int) -> Figures:
    import asyncpg

    parsed = make_url(base)
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        return await measure("postgresql", url_with_schema(base, schema), size)
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


def main() -> int:
    figures = asyncio.run(run())
    print()
    print(_format(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
