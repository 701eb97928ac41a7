"""Tonle whole, with access policies on: the registry and the four operators' sandboxes and
subgraphs, and a gateway enforcing the demo policy for the demo partners — every part real,
over HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from gateway import Gateway, create_app
from gateway.limits import OperationLimits
from identity_store import (
    NewHousehold,
    add_households,
    add_people,
    create_engine,
    migrate,
    session_factory,
)
from policies.audit import SIGNING_KEY_ENV, generate_key_pair
from policies.enforcement import PolicyAccess
from policies.repository import Sessions
from policies.service import PolicySettings, policy_enforcement
from sandbox import idpoor as idpoor_sandbox
from sandbox import moi as moi_sandbox
from sandbox import nssf as nssf_sandbox
from sandbox import pca as pca_sandbox
from sandbox.population import Population, generate_population
from subgraphs import coverage as coverage_subgraph
from subgraphs import identity, idpoor, moi, nssf, pca
from tests.federation import live_supergraph
from tests.servers import free_port, serve
from tonle.demo_partners import set_up_partners

SECRET = "policy-stack-secret"
SANDBOXES = {"nssf": nssf_sandbox, "idpoor": idpoor_sandbox, "pca": pca_sandbox, "moi": moi_sandbox}
SUBGRAPHS = {"nssf": nssf, "idpoor": idpoor, "pca": pca, "moi": moi}
JSON = dict[str, Any]


@dataclass
class Reply:
    status: int
    body: JSON
    headers: Mapping[str, str]

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.body.get("errors", [])]

    @property
    def messages(self) -> list[str]:
        return [e["message"] for e in self.body.get("errors", [])]


@dataclass
class PolicyStack:
    gateway: str
    session: aiohttp.ClientSession
    population: Population
    registry_url: str
    sessions: Sessions
    partners: dict[str, dict[str, Any]]
    access: PolicyAccess
    sandboxes: dict[str, str]
    subgraphs: dict[str, str]
    pseudonym_key: bytes

    def key(self, partner: str) -> str:
        return str(self.partners[partner]["api_key"])

    async def ask(
        self,
        partner: str | None,
        query: str,
        variables: JSON | None = None,
        *,
        purpose: str | None = "",
        headers: Mapping[str, str] | None = None,
        method: str = "POST",
    ) -> Reply:
        """A request as ``partner`` for ``purpose`` (its first purpose when left empty)."""
        sent: dict[str, str] = {"Accept": "application/graphql-response+json"}
        if partner is not None:
            sent["Authorization"] = f"Bearer {self.key(partner)}"
            if purpose == "":
                purpose = str(self.partners[partner]["purposes"][0])
        if purpose:
            sent["X-Purpose"] = purpose
        sent.update(headers or {})
        if method == "GET":
            params = {"query": query}
            if variables:
                import json

                params["variables"] = json.dumps(variables)
            request = self.session.get(self.gateway + "/graphql", params=params, headers=sent)
        else:
            body = {"query": query, "variables": variables or {}}
            request = self.session.post(self.gateway + "/graphql", json=body, headers=sent)
        async with request as response:
            return Reply(response.status, await response.json(), dict(response.headers))


async def seed_registry(registry_url: str, population: Population) -> None:
    """Everyone in their own village (so areas mean something), with their households."""
    await migrate(registry_url)
    engine = create_engine(registry_url)
    try:
        sessions = session_factory(engine)
        await add_people(sessions, [p.new_person() for p in population.people])
        await add_households(
            sessions,
            [
                NewHousehold(h.household_id, h.village_code, h.members)
                for h in population.households
            ],
        )
    finally:
        await engine.dispose()


@asynccontextmanager
async def policy_stack(
    registry_url: str,
    tmp_path: Path,
    *,
    people: int = 300,
    seed: int = 20261124,
    redis: tuple[str, str] | None = None,
    limits: OperationLimits | None = None,
    coverage: bool = False,
) -> AsyncIterator[PolicyStack]:
    """The whole stack; ``redis`` is a (URL, key prefix) for budgets shared through Redis,
    ``limits`` the gateway process's operation limits (as TONLE_MAX_COST, ... set them);
    ``coverage`` adds the coverage subgraph, which pages through this stack's gateway."""
    population = generate_population(people, seed)
    await seed_registry(registry_url, population)
    pseudonym_key = secrets.token_hex(32).encode()
    keys = generate_key_pair(tmp_path / "audit-keys")
    os.environ["TONLE_GATEWAY_SECRET"] = SECRET
    os.environ[SIGNING_KEY_ENV] = str(keys.private)
    try:
        async with AsyncExitStack() as exits:
            engine = create_engine(registry_url)
            exits.push_async_callback(engine.dispose)
            sessions = session_factory(engine)
            partners = await set_up_partners(sessions)
            urls = {
                "identity": await exits.enter_async_context(
                    serve(identity.create_app(registry_url))
                )
            }
            sandbox_urls = {}
            for name, module in SANDBOXES.items():
                app = module.create_app(tmp_path / f"{name}.db", seed_population=population)
                sandbox_urls[name] = await exits.enter_async_context(serve(app))
                urls[name] = await exits.enter_async_context(
                    serve(SUBGRAPHS[name].create_app(sandbox_urls[name], timeout_s=5.0))
                )
            gateway_port = free_port()
            if coverage:
                app = coverage_subgraph.create_app(
                    f"http://127.0.0.1:{gateway_port}/graphql", page_size=100
                )
                urls["coverage"] = await exits.enter_async_context(serve(app))
            session = await exits.enter_async_context(aiohttp.ClientSession())
            gateway = Gateway.from_sdl(await live_supergraph(session, urls, SECRET), limits=limits)
            access, lifespan = policy_enforcement(
                gateway.api_schema,
                PolicySettings(
                    database_url=registry_url,
                    pseudonym_key=pseudonym_key,
                    poll_s=0.2,
                    checkpoint_every=20,
                    redis_url=redis[0] if redis else None,
                    redis_prefix=redis[1] if redis else "tonle",
                ),
            )
            app = create_app(gateway, access=access, background=lifespan, gateway_secret=SECRET)
            url = await exits.enter_async_context(
                serve(app, port=gateway_port if coverage else None)
            )
            yield PolicyStack(
                gateway=url,
                session=session,
                population=population,
                registry_url=registry_url,
                sessions=sessions,
                partners=partners,
                access=access,
                sandboxes=sandbox_urls,
                subgraphs=urls,
                pseudonym_key=pseudonym_key,
            )
    finally:
        del os.environ["TONLE_GATEWAY_SECRET"]
        del os.environ[SIGNING_KEY_ENV]
