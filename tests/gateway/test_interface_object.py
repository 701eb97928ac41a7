"""@interfaceObject end to end: one subgraph adds fields to every implementation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from tests.gateway import interface_object
from tests.gateway.conftest import Stack, start_stack


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with AsyncExitStack() as exits:
        yield await start_stack(
            interface_object.SUBGRAPHS, interface_object.supergraph_sdl, stack=exits
        )


async def test_a_field_added_by_an_interface_object_reaches_each_implementation(
    stack: Stack,
) -> None:
    body = await stack.query("{ media { __typename title reviews ... on Movie { director } } }")
    assert body == {
        "data": {
            "media": [
                {"__typename": "Book", "title": "Dune", "reviews": ["Vast."]},
                {
                    "__typename": "Movie",
                    "title": "Alien",
                    "reviews": ["Tense.", "Classic."],
                    "director": "Scott",
                },
            ]
        }
    }


async def test_the_real_type_is_fetched_for_objects_from_the_interface_object_subgraph(
    stack: Stack,
) -> None:
    body = await stack.query("{ topMedia { id __typename title ... on Book { author } reviews } }")
    assert body == {
        "data": {
            "topMedia": [
                {
                    "id": "m1",
                    "__typename": "Movie",
                    "title": "Alien",
                    "reviews": ["Tense.", "Classic."],
                },
                {
                    "id": "b1",
                    "__typename": "Book",
                    "title": "Dune",
                    "author": "Herbert",
                    "reviews": ["Vast."],
                },
            ]
        }
    }


async def test_interface_fields_alone_need_no_jump(stack: Stack) -> None:
    body = await stack.query("{ topMedia { id reviews } }")
    assert body == {
        "data": {
            "topMedia": [
                {"id": "m1", "reviews": ["Tense.", "Classic."]},
                {"id": "b1", "reviews": ["Vast."]},
            ]
        }
    }
    assert stack.requests == {"b": 1}
