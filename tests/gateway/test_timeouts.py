"""Timeouts per subgraph: a slow subgraph costs its own fields, and only its own timeout."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL

from gateway import Gateway, create_app
from gateway.settings import GatewaySettings
from tests.gateway.classic import SUBGRAPHS, supergraph_sdl
from tests.servers import serve, serve_all


class SlowApp:
    """Answers like ``app`` after ``delay_s``."""

    def __init__(self, app: ASGIApp, delay_s: float) -> None:
        self.app = app
        self.delay_s = delay_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(self.delay_s)
        await self.app(scope, receive, send)


async def test_a_subgraph_slower_than_its_own_timeout_is_cut_off_and_the_rest_kept() -> None:
    import aiohttp

    apps: dict[str, ASGIApp] = {
        name: GraphQL(schema, graphql_ide=None) for name, schema in SUBGRAPHS.items()
    }
    # inventory takes 3 s; its timeout is 0.3 s while everyone else may take 10 s.
    apps["inventory"] = SlowApp(apps["inventory"], 3.0)
    apps["products"] = SlowApp(apps["products"], 0.5)
    async with AsyncExitStack() as stack:
        bases = await stack.enter_async_context(serve_all(apps))
        urls = {name: base + "/graphql" for name, base in bases.items()}
        app = create_app(
            Gateway.from_sdl(supergraph_sdl(urls)),
            open_mode=True,
            subgraph_timeout_s=10.0,
            subgraph_timeouts={"inventory": 0.3},
        )
        gateway_url = await stack.enter_async_context(serve(app))
        session = await stack.enter_async_context(aiohttp.ClientSession())
        started = time.monotonic()
        async with session.post(
            gateway_url + "/graphql",
            json={"query": "{ topProducts(first: 2) { name inStock } }"},
        ) as response:
            body = await response.json()
        elapsed = time.monotonic() - started
    # products (0.5 s) is within the default timeout and answers; inventory is cut at 0.3 s.
    assert body["data"] == {
        "topProducts": [{"name": "Table", "inStock": None}, {"name": "Couch", "inStock": None}]
    }
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["topProducts", 0], "SUBGRAPH_UNAVAILABLE")
    ]
    assert "0.3 s" in body["errors"][0]["message"]
    assert elapsed < 0.5 + 0.3 + 1.5


def test_a_timeout_for_a_subgraph_the_supergraph_lacks_is_refused() -> None:
    urls = {name: f"http://127.0.0.1:1/{name}" for name in SUBGRAPHS}
    with pytest.raises(ValueError, match=r"timeout is set for invnetory.*subgraphs are accounts"):
        create_app(Gateway.from_sdl(supergraph_sdl(urls)), subgraph_timeouts={"invnetory": 1})


def test_timeouts_per_subgraph_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TONLE_SUBGRAPH_TIMEOUTS", "nssf=3, idpoor=0.5")
    assert GatewaySettings.from_env().subgraph_timeouts == {"nssf": 3.0, "idpoor": 0.5}


@pytest.mark.parametrize("raw", ["nssf", "nssf=", "nssf=soon", "nssf=0", "nssf=-2"])
def test_a_malformed_timeout_setting_says_how_to_write_it(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("TONLE_SUBGRAPH_TIMEOUTS", raw)
    with pytest.raises(SystemExit, match=r"TONLE_SUBGRAPH_TIMEOUTS.*nssf="):
        GatewaySettings.from_env()
