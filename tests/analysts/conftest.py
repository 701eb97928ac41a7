"""A whole running Tonle with the demo policy (300 people) and the analyst app in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from analysts.web import AnalystConfig, create_analyst_app
from tests.policy_stack import PolicyStack, policy_stack
from tests.servers import serve


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[PolicyStack]:
    registry = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with policy_stack(registry, tmp_path, people=300) as running:
        yield running


@pytest.fixture
async def analyst(stack: PolicyStack, tmp_path: Path) -> AsyncIterator[str]:
    """The analyst app's URL (its page is at URL + "/"); one job at a time per key."""
    config = AnalystConfig(stack.gateway + "/graphql", tmp_path / "jobs", per_key=1)
    async with serve(create_analyst_app(config)) as url:
        yield url
