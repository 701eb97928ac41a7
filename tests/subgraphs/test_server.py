"""The subgraph HTTP shell: only the gateway may call /graphql when a secret is set."""

from __future__ import annotations

from contextlib import AsyncExitStack

import aiohttp
import strawberry

from gateway import Gateway, create_app
from policies import SIGNATURE_HEADER, sign
from subgraphs.server import build_subgraph_app
from tests.gateway.supergraphs import supergraph
from tests.servers import serve


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


SCHEMA = strawberry.federation.Schema(query=Query)


def sdl(url: str) -> str:
    return supergraph(
        {"HELLO": url},
        "type Query @join__type(graph: HELLO) { hello: String! }",
    )


async def test_an_unsigned_request_is_refused_and_a_signed_one_answered() -> None:
    app = build_subgraph_app(SCHEMA, gateway_secret="shared")
    body = b'{"query": "{ hello }"}'
    async with serve(app) as url, aiohttp.ClientSession() as session:
        headers = {"Content-Type": "application/json"}
        async with session.post(url + "/graphql", data=body, headers=headers) as r:
            assert r.status == 401
            error = (await r.json())["errors"][0]
            assert error["extensions"]["code"] == "UNAUTHENTICATED"
            assert "gateway" in error["message"]
        signed = {**headers, SIGNATURE_HEADER: sign("shared", body)}
        async with session.post(url + "/graphql", data=body, headers=signed) as r:
            assert r.status == 200
            assert await r.json() == {"data": {"hello": "world"}}
        async with session.get(url + "/health") as r:
            assert r.status == 200


async def test_the_gateway_signs_its_subgraph_requests() -> None:
    async with AsyncExitStack() as stack:
        base = await stack.enter_async_context(
            serve(build_subgraph_app(SCHEMA, gateway_secret="shared"))
        )
        signed = Gateway.from_sdl(sdl(base + "/graphql"))
        unsigned = Gateway.from_sdl(sdl(base + "/graphql"))
        good = await stack.enter_async_context(
            serve(create_app(signed, open_mode=True, gateway_secret="shared"))
        )
        bad = await stack.enter_async_context(serve(create_app(unsigned, open_mode=True)))
        session = await stack.enter_async_context(aiohttp.ClientSession())
        async with session.post(good + "/graphql", json={"query": "{ hello }"}) as r:
            assert await r.json() == {"data": {"hello": "world"}}
        async with session.post(bad + "/graphql", json={"query": "{ hello }"}) as r:
            body = await r.json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "SUBGRAPH_UNAVAILABLE"
        assert "TONLE_GATEWAY_SECRET" in body["errors"][0]["message"]
