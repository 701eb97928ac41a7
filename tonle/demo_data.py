"""Seeding the demo's databases from the synthetic population, once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from identity_store import (
    NewPerson,
    add_people,
    count_people,
    create_engine,
    migrate,
    most_populous_village,
    session_factory,
)
from sandbox.idpoor import seed as seed_idpoor
from sandbox.population import generate_population


@dataclass(frozen=True)
class DemoStores:
    registry_url: str
    idpoor_database: Path


async def prepare_data(
    data_dir: Path, people: int, seed: int, say: Callable[[str], None]
) -> DemoStores:
    """Migrate the registry and seed both databases unless an earlier start already did."""
    stores = DemoStores(
        registry_url=f"sqlite+aiosqlite:///{data_dir / 'registry.db'}",
        idpoor_database=data_dir / "idpoor.db",
    )
    await migrate(stores.registry_url)
    engine = create_engine(stores.registry_url)
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            existing = await count_people(session)
        if existing:
            say(f"Reusing the registry: {existing} people already registered.")
            return stores
        say(f"First start: generating {people} synthetic people…")
        population = generate_population(people, seed)
        await add_people(
            sessions,
            (
                NewPerson(
                    spid=p.spid,
                    khmer_id=p.khmer_id,
                    family_name=p.family_name,
                    given_name=p.given_name,
                    birth_date=p.birth_date,
                    sex=p.sex,
                    village_code=p.village_code,
                )
                for p in population.people
            ),
        )
        added = seed_idpoor(stores.idpoor_database, population.idpoor_households)
        say(f"Registered {len(population.people)} people; IDPoor holds {added} poor households.")
    finally:
        await engine.dispose()
    return stores


async def demo_village(registry_url: str) -> str:
    """A village with people in it, for the printed example query."""
    engine = create_engine(registry_url)
    try:
        async with session_factory(engine)() as session:
            village = await most_populous_village(session)
    finally:
        await engine.dispose()
    if village is None:
        raise RuntimeError("the demo registry is empty; delete the data directory and start again")
    return village
