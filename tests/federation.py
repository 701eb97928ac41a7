"""Helpers for end-to-end tests: a registry seeded from the population, a live supergraph."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from gateway.composition import SubgraphSource, compose, fetch_subgraph_sdl
from identity_store import (
    NewHousehold,
    add_households,
    add_people,
    create_engine,
    migrate,
    session_factory,
)
from policies import request_signer
from sandbox.population import Population


async def register_population(
    registry_url: str, population: Population, *, village: str, households: bool = False
) -> None:
    """Migrate the registry and register everyone in ``village`` (so one page lists them)."""
    await migrate(registry_url)
    engine = create_engine(registry_url)
    try:
        sessions = session_factory(engine)
        await add_people(
            sessions,
            [p.new_person(village_code=village) for p in population.people],
        )
        if households:
            await add_households(
                sessions,
                [NewHousehold(h.household_id, village, h.members) for h in population.households],
            )
    finally:
        await engine.dispose()


async def live_supergraph(
    session: aiohttp.ClientSession, subgraphs: Mapping[str, str], secret: str
) -> str:
    """Compose the running subgraphs (name -> base URL), asking each for its SDL, signed.

    Each name is the subgraph's name in the supergraph, so the audience it checks.
    """
    sources = [
        SubgraphSource(
            name,
            url + "/graphql",
            await fetch_subgraph_sdl(
                session,
                url + "/graphql",
                sign=request_signer(secret, name),
            ),
        )
        for name, url in subgraphs.items()
    ]
    return compose(sources)
