"""The subgraph HTTP shell: only the gateway may call /graphql when a secret is set.

The attacks a partner could try are in test_gateway_trust.py; here, the shell's own rules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import aiohttp
import pytest
import strawberry

from gateway import Gateway, create_app
from policies import SIGNATURE_HEADER, MemoryNonceStore, sign
from subgraphs.server import SUBGRAPH_NAME_ENV, build_subgraph_app
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


BODY = b'{"query": "{ hello }"}'


def signed_for(audience: str, body: bytes = BODY) -> dict[str, str]:
    signature = sign("shared", method="POST", audience=audience, target="/graphql", body=body)
    return {"Content-Type": "application/json", SIGNATURE_HEADER: signature}


async def test_an_unsigned_request_is_refused_and_a_signed_one_answered() -> None:
    app = build_subgraph_app(SCHEMA, name="hello", gateway_secret="shared")
    async with serve(app) as url, aiohttp.ClientSession() as session:
        headers = {"Content-Type": "application/json"}
        async with session.post(url + "/graphql", data=BODY, headers=headers) as r:
            assert r.status == 401
            error = (await r.json())["errors"][0]
            assert error["extensions"]["code"] == "UNAUTHENTICATED"
            assert "gateway" in error["message"]
        async with session.post(url + "/graphql", data=BODY, headers=signed_for("hello")) as r:
            assert r.status == 200
            assert await r.json() == {"data": {"hello": "world"}}
        async with session.get(url + "/health") as r:
            assert r.status == 200


async def test_without_a_secret_the_shell_checks_nothing() -> None:
    app = build_subgraph_app(SCHEMA, name="hello", gateway_secret="")
    async with (
        serve(app) as url,
        aiohttp.ClientSession() as session,
        session.get(url + "/graphql", params={"query": "{ hello }"}) as r,
    ):
        assert await r.json() == {"data": {"hello": "world"}}


async def test_tonle_subgraph_name_sets_the_audience_a_subgraph_accepts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SUBGRAPH_NAME_ENV, "greetings")
    app = build_subgraph_app(SCHEMA, name="hello", gateway_secret="shared")
    async with serve(app) as url, aiohttp.ClientSession() as session:
        async with session.post(url + "/graphql", data=BODY, headers=signed_for("hello")) as r:
            assert r.status == 401
        async with session.post(url + "/graphql", data=BODY, headers=signed_for("greetings")) as r:
            assert r.status == 200


async def test_a_signed_body_sent_in_pieces_is_read_whole() -> None:
    body = b'{"query": "{ hello }", "variables": {"pad": "' + b"x" * 200_000 + b'"}}'

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 16_384):
            yield body[i : i + 16_384]

    app = build_subgraph_app(SCHEMA, name="hello", gateway_secret="shared")
    async with serve(app) as url, aiohttp.ClientSession() as session:
        headers = signed_for("hello", body)
        async with session.post(url + "/graphql", data=pieces(), headers=headers) as r:
            assert r.status == 200
            assert await r.json() == {"data": {"hello": "world"}}


async def test_a_full_replay_memory_refuses_rather_than_forgets() -> None:
    app = build_subgraph_app(
        SCHEMA, name="hello", gateway_secret="shared", nonces=MemoryNonceStore(capacity=1)
    )
    async with serve(app) as url, aiohttp.ClientSession() as session:
        async with session.post(url + "/graphql", data=BODY, headers=signed_for("hello")) as r:
            assert r.status == 200
        async with session.post(url + "/graphql", data=BODY, headers=signed_for("hello")) as r:
            assert r.status == 503
            error = (await r.json())["errors"][0]
            assert "replicas" in error["message"]


async def test_the_gateway_signs_its_subgraph_requests() -> None:
    async with AsyncExitStack() as stack:
        base = await stack.enter_async_context(
            serve(build_subgraph_app(SCHEMA, name="hello", gateway_secret="shared"))
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


async def test_metrics_answer_only_the_bearer_of_the_metrics_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TONLE_METRICS_TOKEN", "metrics-token")
    app = build_subgraph_app(SCHEMA, name="hello", gateway_secret="")
    async with serve(app) as url, aiohttp.ClientSession() as session:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "metrics-token"}):
            async with session.get(url + "/metrics", headers=headers) as r:
                assert r.status == 401, headers
                assert r.headers["WWW-Authenticate"] == "Bearer"
                assert "TONLE_METRICS_TOKEN" in (await r.json())["error"]
        async with session.get(
            url + "/metrics", headers={"Authorization": "Bearer metrics-token"}
        ) as r:
            assert r.status == 200
            assert "tonle_cancelled_requests_total 0.0" in await r.text()
        async with session.get(url + "/health") as r:
            assert r.status == 200  # health stays open: load balancers probe it


async def test_without_a_metrics_token_metrics_are_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TONLE_METRICS_TOKEN", raising=False)
    app = build_subgraph_app(SCHEMA, name="hello", gateway_secret="")
    async with (
        serve(app) as url,
        aiohttp.ClientSession() as session,
        session.get(url + "/metrics") as r,
    ):
        assert r.status == 200
