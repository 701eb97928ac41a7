"""The running parts the fuzz tests hit, started once per module and shared by its tests.

A stack costs a second or two to start; a hypothesis example costs milliseconds. So the
package starts the whole stack once per backend (``loop_scope="package"``: SQLite and
PostgreSQL), and every example of every test (gateway, subgraphs, sandboxes) is sent to it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from graphql import GraphQLSchema, build_client_schema, get_introspection_query

from policies.document import read_stored
from policies.repository import add_version, publish, published
from tests.conftest import POSTGRES_ENV, REQUIRE_ENV, _postgres_schema_url
from tests.policy_stack import PolicyStack, policy_stack

RAISED_LIMIT = 1_000_000


@dataclass(repr=False)
class FuzzedStack:
    """The whole stack with policies on, the partners' credentials and what they may see."""

    stack: PolicyStack
    credentials: list[tuple[tuple[bytes, bytes], ...]]  # header sets: each partner, and nobody
    views: list[GraphQLSchema]  # the API schema, then each partner's own view
    hints: tuple[str, ...]  # real values, so that documents get past validation

    def __repr__(self) -> str:  # hypothesis prints the test's arguments with a failure
        return f"FuzzedStack(gateway={self.stack.gateway})"


async def registry_url(kind: str, folder: Path) -> AsyncIterator[str]:
    """A fresh registry database of ``kind``: a SQLite file or a PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'registry.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {POSTGRES_ENV} is not set: PostgreSQL tests must run")
        pytest.skip(f"{POSTGRES_ENV} is not set")
    async for url in _postgres_schema_url(base):
        yield url


async def raise_rate_limits(stack: PolicyStack) -> None:
    """Publish the demo policy with per-minute limits no fuzz run reaches.

    The limits themselves are tested elsewhere; here a 429 would only hide the answers
    of the requests behind it.
    """
    current = await published(stack.sessions)
    assert current is not None
    data = current.document.to_json()
    for agreement in data["agreements"]:
        limits = agreement.setdefault("limits", {})
        for name in ("requests_per_minute", "verifications_per_minute"):
            limits[name] = RAISED_LIMIT
    number = await add_version(stack.sessions, read_stored(data), created_by="fuzz", reason="fuzz")
    await publish(stack.sessions, number, by="fuzz", reason="fuzz")
    await stack.access.store.refresh()


async def partner_view(stack: PolicyStack, partner: str) -> GraphQLSchema:
    reply = await stack.ask(partner, get_introspection_query())
    assert reply.status == 200 and "errors" not in reply.body, reply.body
    return build_client_schema(reply.data)


@pytest_asyncio.fixture(scope="package", loop_scope="package", params=["sqlite", "postgresql"])
async def fuzzed_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FuzzedStack]:
    folder = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    async for url in registry_url(request.param, folder):
        async with policy_stack(url, folder, people=80, seed=7) as stack:
            await raise_rate_limits(stack)
            credentials: list[tuple[tuple[bytes, bytes], ...]] = [()]
            views = [stack.access.api_schema]
            for partner, facts in stack.partners.items():
                for purpose in facts["purposes"]:
                    credentials.append(
                        (
                            (b"Authorization", f"Bearer {stack.key(partner)}".encode()),
                            (b"X-Purpose", str(purpose).encode()),
                        )
                    )
                views.append(await partner_view(stack, partner))
            people = stack.population.people
            hints = tuple(
                sorted(
                    {p.spid for p in people[:10]}
                    | {p.village_code for p in people[:5]}
                    | {p.village_code[:6] for p in people[:3]}
                    | {p.khmer_id for p in people[:10] if p.khmer_id}
                    | {p.family_name for p in people[:5]}
                    | {p.given_name_km for p in people[:3]}
                    | {h.household_id for h in stack.population.households[:3]}
                    | {"1990", "1990-05-17", "nssf", "health_care", "eligibility_check"}
                )
            )
            yield FuzzedStack(stack, credentials, views, hints)
