"""Subgraph errors reach the client on the client's paths, with nulls where the spec puts them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from tests.gateway import faulty
from tests.gateway.conftest import Stack, start_stack


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with AsyncExitStack() as exits:
        yield await start_stack(faulty.SUBGRAPHS, faulty.supergraph_sdl, stack=exits)


async def test_an_entity_field_error_is_repathed_onto_the_client_path(stack: Stack) -> None:
    assert await stack.query("{ items { id risky } }") == {
        "errors": [
            {
                "message": "risky failed for this item",
                "path": ["items", 1, "risky"],
                "extensions": {"serviceName": "b"},
            }
        ],
        "data": {
            "items": [
                {"id": "1", "risky": "ok 1"},
                {"id": "2", "risky": None},
                {"id": "3", "risky": "ok 3"},
            ]
        },
    }


async def test_a_null_non_null_field_from_a_subgraph_nulls_its_nearest_nullable_parent(
    stack: Stack,
) -> None:
    body = await stack.query("{ items { id name strict } }")
    assert body["data"] == {
        "items": [
            {"id": "1", "name": "item 1", "strict": "strict 1"},
            {"id": "2", "name": "item 2", "strict": "strict 2"},
            None,
        ]
    }
    # One error, the subgraph's, re-pathed: the gateway does not add a second one.
    assert [e["path"] for e in body["errors"]] == [["items", 2, "strict"]]
