"""A gateway run ``--open`` over the classic federation subgraphs (accounts, products,
inventory, reviews), fuzzed: the gateway is general, and what holds with Tonle's policies
must hold without them and over any supergraph."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
import pytest_asyncio
from graphql import GraphQLSchema
from hypothesis import given
from hypothesis import strategies as st

from gateway import Gateway
from tests.fuzz.documents import almost_valid, requests
from tests.fuzz.http import RawRequest, odd_requests
from tests.fuzz.properties import budget, check_reply
from tests.fuzz.values import to_json
from tests.fuzz.wire import exchange
from tests.gateway.classic import SUBGRAPHS, supergraph_sdl
from tests.gateway.conftest import Stack, start_stack

pytestmark = pytest.mark.asyncio(loop_scope="package")
HINTS = ("1", "2", "3", "@ada", "Table")
NOBODY: list[tuple[tuple[bytes, bytes], ...]] = [()]


@pytest_asyncio.fixture(scope="module", loop_scope="package")
async def classic_open() -> AsyncIterator[tuple[Stack, GraphQLSchema]]:
    async with AsyncExitStack() as exits:
        stack = await start_stack(SUBGRAPHS, supergraph_sdl, stack=exits)
        schema = Gateway.from_sdl(supergraph_sdl(stack.subgraph_urls)).api_schema
        yield stack, schema


@budget(30)
@given(data=st.data())
async def test_any_document_is_answered_without_a_fault(
    classic_open: tuple[Stack, GraphQLSchema], data: st.DataObject
) -> None:
    stack, schema = classic_open
    drawn = data.draw(requests(schema, HINTS), label="request")
    if data.draw(st.booleans()):
        drawn = data.draw(almost_valid(drawn), label="broken")
    request = RawRequest(
        b"POST", b"/graphql", ((b"Content-Type", b"application/json"),), to_json(drawn.body())
    )
    check_reply(await exchange(stack.gateway_url, request), request.shown())


@budget(30)
@given(data=st.data())
async def test_odd_http_is_refused_in_words(
    classic_open: tuple[Stack, GraphQLSchema], data: st.DataObject
) -> None:
    stack, schema = classic_open
    drawn = data.draw(requests(schema, HINTS, depth=2), label="request")
    request = data.draw(odd_requests(drawn.body(), NOBODY), label="http")
    reply = await exchange(stack.gateway_url, request)
    check_reply(reply, request.shown(), method=request.method)
