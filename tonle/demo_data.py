"""Seeding the demo's databases from the synthetic population, once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from identity_store import (
    NewHousehold,
    Registration,
    add_households,
    add_people,
    count_people,
    create_engine,
    migrate,
    most_populous_village,
    register_batch,
    session_factory,
)
from sandbox.idpoor import IDPOOR
from sandbox.moi import MOI
from sandbox.nssf import NSSF
from sandbox.nssf.records import nssf_members
from sandbox.pca import PCA
from sandbox.population import Population, generate_population
from sandbox.service import SandboxDefinition

# operator -> its sandbox; each keeps its own database in the data directory
SANDBOXES: dict[str, SandboxDefinition] = {"idpoor": IDPOOR, "nssf": NSSF, "moi": MOI, "pca": PCA}


@dataclass(frozen=True)
class DemoStores:
    registry_url: str
    sandbox_databases: dict[str, Path] = field(default_factory=dict)


async def prepare_data(
    data_dir: Path, people: int, seed: int, say: Callable[[str], None]
) -> DemoStores:
    """Migrate the registry and seed every database unless an earlier start already did."""
    stores = DemoStores(
        registry_url=f"sqlite+aiosqlite:///{data_dir / 'registry.db'}",
        sandbox_databases={name: data_dir / f"{name}.db" for name in SANDBOXES},
    )
    await migrate(stores.registry_url)
    engine = create_engine(stores.registry_url)
    population: Population | None = None
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            existing = await count_people(session)
        if existing:
            say(f"Reusing the registry: {existing} people already registered.")
            people = existing
        else:
            say(f"First start: generating {people} synthetic people…")
            population = generate_population(people, seed)
            await add_people(
                sessions,
                (p.new_person() for p in population.people),
            )
            await add_households(
                sessions,
                (
                    NewHousehold(h.household_id, h.village_code, h.members)
                    for h in population.households
                ),
            )
            say(
                f"Registered {len(population.people)} people in "
                f"{len(population.households)} households."
            )
            linked = await register_members(sessions, population)
            say(f"NSSF registered its {linked} members (programme links, by Khmer ID).")
    finally:
        await engine.dispose()
    # A sandbox whose database is missing (a first start, or a data directory from before
    # it existed) is seeded from the same deterministic population as the registry.
    for name, definition in SANDBOXES.items():
        path = stores.sandbox_databases[name]
        if path.exists():
            continue
        population = population or generate_population(people, seed)
        added = definition.seed(path, population)
        say(f"Seeded the {definition.title}: {added} records in its own database.")
    return stores


async def register_members(sessions: Any, population: Population) -> int:
    """NSSF registers its members, as an operator would: each links to its registrant by
    Khmer ID, so that the NSSF partner's "own registrations" scope has people in it."""
    by_spid = {p.spid: p for p in population.people}
    registrations = []
    for member in nssf_members(population):
        person = by_spid[member.spid]
        if person.khmer_id is None:
            continue
        registrations.append(
            Registration(
                operator="nssf",
                programme=member.schemes[0],
                local_id=member.member_id,
                family_name=person.family_name,
                given_name=person.given_name,
                birth_date=person.birth_date,
                sex=person.sex,
                village_code=person.village_code,
                khmer_id=person.khmer_id,
                family_name_km=person.family_name_km,
                given_name_km=person.given_name_km,
                registered_by="demo-seed",
            )
        )
    for start in range(0, len(registrations), 1000):
        await register_batch(sessions, registrations[start : start + 1000])
    return len(registrations)


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
