"""The console over a whole running Tonle (registry, operators' subgraphs, a gateway with the
demo policy): what the preview needs to run a partner's query against the live system."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from policies.console import ConsoleConfig
from policies.console.accounts import create_user
from tests.federation import live_supergraph
from tests.policies.console.conftest import ACCOUNTS, PASSWORD, ConsoleSite, serve_console
from tests.policy_stack import SECRET, PolicyStack, policy_stack

NGO_AREAS = ("12", "21")


@asynccontextmanager
async def live_console(tmp_path: Path) -> AsyncIterator[tuple[PolicyStack, ConsoleSite]]:
    registry = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with policy_stack(registry, tmp_path) as stack:
        supergraph = tmp_path / "supergraph.graphql"
        supergraph.write_text(
            await live_supergraph(stack.session, stack.subgraphs, SECRET), encoding="utf-8"
        )
        for username, roles in ACCOUNTS.items():
            await create_user(
                stack.sessions, username, PASSWORD, roles, display_name=username.title()
            )
        config = ConsoleConfig(
            database_url=registry,
            supergraph_path=str(supergraph),
            gateway_secret=SECRET,
            pseudonym_key=stack.pseudonym_key,
        )
        async with serve_console(config, stack.sessions) as site:
            yield stack, site


def someone_the_ngo_sees(stack: PolicyStack):  # type: ignore[no-untyped-def]
    """A person of the population in ngo-cash's areas, with a Khmer ID."""
    return next(
        p for p in stack.population.people if p.village_code[:2] in NGO_AREAS and p.khmer_id
    )
