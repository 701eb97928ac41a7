"""A demo data directory with a whole population in one province, seeded in bulk.

``tonle demo --data-dir DIR`` reuses a registry that has people and sandbox databases that
exist, so the benchmark writes them here first: the registry through
``identity_store.add_people`` / ``add_households`` (multi-row inserts, blocking keys
included), each sandbox through its own ``seed`` — the demo's own path, less NSSF's
registrations one by one, which a benchmark of reads does not need.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from identity_store import (
    NewHousehold,
    add_households,
    add_people,
    create_engine,
    migrate,
    session_factory,
)
from identity_store.gazetteer import area_codes
from sandbox.population import all_village_codes, generate_population
from tonle.demo_data import SANDBOXES

READY = "seeded"  # written last: a directory without it is seeded again from scratch


def province_villages(province: str) -> list[str]:
    """The gazetteer's villages of ``province`` (by the gazetteer, not the code's prefix)."""
    return [v for v in all_village_codes() if area_codes(v)["province_code"] == province]


def empty(data_dir: Path) -> None:
    """``data_dir`` without the databases and the mark of an earlier seeding."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for stale in data_dir.glob("*.db*"):
        stale.unlink()
    (data_dir / READY).unlink(missing_ok=True)


async def seed(data_dir: Path, people: int, province: str, seed_value: int) -> float:
    """Seed ``data_dir`` (emptied first) with ``people`` in ``province``; the seconds it took."""
    started = time.monotonic()
    empty(data_dir)
    population = generate_population(people, seed_value, villages=province_villages(province))
    url = f"sqlite+aiosqlite:///{data_dir / 'registry.db'}"
    await migrate(url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        batch = 20_000
        people_list = [p.new_person() for p in population.people]
        for start in range(0, len(people_list), batch):
            await add_people(sessions, people_list[start : start + batch])
        households = [
            NewHousehold(h.household_id, h.village_code, h.members) for h in population.households
        ]
        for start in range(0, len(households), batch):
            await add_households(sessions, households[start : start + batch])
    finally:
        await engine.dispose()
    for name, definition in SANDBOXES.items():
        definition.seed(data_dir / f"{name}.db", population)
    mark(data_dir, f"{people} {province} {seed_value}\n")
    return time.monotonic() - started


def mark(data_dir: Path, text: str) -> None:
    (data_dir / READY).write_text(text)


def seeded(data_dir: Path, people: int, province: str, seed_value: int) -> bool:
    """Whether ``data_dir`` already holds this population (a previous run's)."""
    ready = data_dir / READY
    return ready.exists() and ready.read_text().split() == [str(people), province, str(seed_value)]


if __name__ == "__main__":
    import sys

    took = asyncio.run(seed(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], 20261124))
    print(f"seeded in {took:.0f} s")
