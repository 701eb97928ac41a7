"""Keys of every shape, sharing, override and abstract types across subgraphs, end to end.

The supergraph is composed by Tonle's own composition from the strawberry subgraphs in
``tests/gateway/shapes.py``; each test compares the whole response and counts the requests
each subgraph received, so a plan that jumps where it need not fails here too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from gateway import Gateway, print_plan
from tests.gateway import shapes
from tests.gateway.conftest import Stack, start_stack


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with AsyncExitStack() as exits:
        yield await start_stack(shapes.SUBGRAPHS, shapes.supergraph_sdl, stack=exits)


def plan_of(query: str) -> str:
    urls = {name: f"http://127.0.0.1:1/{name}" for name in shapes.SUBGRAPHS}
    return print_plan(Gateway.from_sdl(shapes.supergraph_sdl(urls)).prepare(query, None).plan)


async def test_a_composite_nested_key_reaches_the_subgraph_that_only_knows_it(stack: Stack) -> None:
    body = await stack.query("{ account { id balance org { id } } }")
    assert body == {"data": {"account": {"id": "a1", "balance": 700, "org": {"id": "o1"}}}}
    assert stack.requests == {"catalog": 1, "stock": 1}


async def test_a_resolvable_false_key_is_followed_through_another_key(stack: Stack) -> None:
    # refs can name an account but not resolve one: catalog turns its id into the
    # composite key stock needs.
    body = await stack.query("{ pinned { id number balance } }")
    assert body == {"data": {"pinned": {"id": "a1", "number": 7, "balance": 700}}}
    assert stack.requests == {"refs": 1, "catalog": 1, "stock": 1}


def test_a_resolvable_false_subgraph_is_never_asked_for_entities() -> None:
    plan = plan_of("{ account { id } pinned { id number } }")
    assert plan.count('Fetch(service: "refs")') == 1
    refs_fetch = plan.split('Fetch(service: "refs")')[1].split("Fetch(")[0]
    assert "_entities" not in refs_fetch
    assert "_entities" in plan  # number came from catalog, by entity fetch


async def test_interface_members_are_completed_from_another_subgraph(stack: Stack) -> None:
    body = await stack.query(
        "{ nodes { __typename id ... on Book { title stock } ... on Film { title rating } } }"
    )
    assert body == {
        "data": {
            "nodes": [
                {"__typename": "Book", "id": "b1", "title": "Dune", "stock": 4},
                {"__typename": "Film", "id": "f1", "title": "Alien", "rating": 5},
            ]
        }
    }
    # One entity fetch to stock carries both the book and the film.
    assert stack.requests == {"catalog": 1, "stock": 1}


async def test_union_members_keep_the_order_and_fields_the_client_asked(stack: Stack) -> None:
    body = await stack.query(
        "{ items { ... on Film { rating id } ... on Book { stock __typename } } }"
    )
    assert body == {
        "data": {"items": [{"rating": 5, "id": "f1"}, {"stock": 4, "__typename": "Book"}]}
    }


async def test_an_overridden_field_is_fetched_from_its_new_owner(stack: Stack) -> None:
    body = await stack.query("{ items { ... on Film { rating } } }")
    assert body == {"data": {"items": [{"rating": 5}, {}]}}
    assert stack.requests == {"catalog": 1, "stock": 1}
    # catalog still declares rating, but only stock, its new owner, is asked for it.
    before_stock, stock_fetch = plan_of("{ items { ... on Film { rating } } }").split(
        'Fetch(service: "stock")'
    )
    assert "rating" not in before_stock
    assert "rating" in stock_fetch


async def test_a_shareable_field_is_taken_where_the_entity_already_is(stack: Stack) -> None:
    body = await stack.query("{ bestseller { id title stock } }")
    assert body == {"data": {"bestseller": {"id": "b2", "title": "Emma", "stock": 4}}}
    # title is shareable between catalog and stock: no jump to catalog.
    assert stack.requests == {"stock": 1}


async def test_the_other_owner_of_a_shareable_field_answers_from_its_side(stack: Stack) -> None:
    body = await stack.query("{ nodes { ... on Book { title } } }")
    assert body == {"data": {"nodes": [{"title": "Dune"}, {}]}}
    assert stack.requests == {"catalog": 1}
