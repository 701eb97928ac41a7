"""@requires chains, entities in nested lists, and mutations in order, end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from gateway import Gateway, print_plan
from tests.gateway import chains
from tests.gateway.conftest import Stack, start_stack


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    chains.LOG.clear()
    async with AsyncExitStack() as exits:
        yield await start_stack(chains.SUBGRAPHS, chains.supergraph_sdl, stack=exits)


async def test_a_requires_chain_across_three_subgraphs_in_nested_lists(stack: Stack) -> None:
    body = await stack.query("{ shelves { id total } }")
    assert body == {
        "data": {
            "shelves": [
                [{"id": "1", "total": 110}, None],
                [{"id": "2", "total": 275}, {"id": "3", "total": 44}],
            ]
        }
    }
    # p for the shelves, q for tax (needs price), r for total (needs price and tax)
    assert stack.requests == {"p": 1, "q": 1, "r": 1}


def test_the_chain_is_planned_in_dependency_order() -> None:
    urls = {n: f"http://127.0.0.1:1/{n}" for n in chains.SUBGRAPHS}
    plan = print_plan(
        Gateway.from_sdl(chains.supergraph_sdl(urls)).prepare("{ shelves { total } }", None).plan
    )
    assert plan.index('Fetch(service: "p")') < plan.index('Fetch(service: "q")')
    assert plan.index('Fetch(service: "q")') < plan.index('Fetch(service: "r")')
    assert 'Flatten(path: "shelves.@.@")' in plan


async def test_mutations_run_in_the_order_written(stack: Stack) -> None:
    body = await stack.query(
        'mutation { a: logP(text: "1") b: logQ(text: "2") c: logP(text: "3") }'
    )
    assert body == {"data": {"a": 1, "b": 2, "c": 3}}
    assert (await stack.query("{ log }"))["data"]["log"] == ["p:1", "q:2", "p:3"]
