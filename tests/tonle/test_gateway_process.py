"""``tonle gateway`` as a process: it stops within its grace with a request hanging, and
serves its metrics on a listener of their own, behind the metrics token, when asked."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import strawberry
from strawberry.asgi import GraphQL

from tests.gateway.supergraphs import supergraph
from tests.servers import free_port, serve, wait_healthy


def slow_subgraph(started: asyncio.Event) -> strawberry.federation.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        async def hello(self) -> str:
            started.set()
            await asyncio.sleep(60)
            return "late"

    return strawberry.federation.Schema(query=Query)


@asynccontextmanager
async def gateway_process(
    tmp_path: Path, subgraph_url: str, env: Mapping[str, str]
) -> AsyncIterator[tuple[subprocess.Popen[bytes], str]]:
    sdl = tmp_path / "supergraph.graphql"
    sdl.write_text(
        supergraph(
            {"HELLO": subgraph_url + "/graphql"},
            "type Query @join__type(graph: HELLO) { hello: String! }",
        )
    )
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TONLE_")}
    command = [sys.executable, "-m", "tonle.cli", "gateway", "--open"]
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, not awaited
        [*command, "--supergraph", str(sdl), "--port", str(port)],
        env={**clean, "TONLE_SUBGRAPH_TIMEOUT_S": "60", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(process, url, "gateway")
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


async def test_sigterm_stops_the_gateway_within_its_grace_while_a_request_hangs(
    tmp_path: Path,
) -> None:
    started = asyncio.Event()
    async with (
        serve(GraphQL(slow_subgraph(started))) as subgraph,
        gateway_process(tmp_path, subgraph, {"TONLE_SHUTDOWN_GRACE_S": "1"}) as (process, url),
        aiohttp.ClientSession() as session,
    ):
        hanging = asyncio.create_task(session.post(url + "/graphql", json={"query": "{ hello }"}))
        await asyncio.wait_for(started.wait(), timeout=10)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        while process.poll() is None:
            assert time.monotonic() - signalled < 3, "the gateway did not stop within 3 s"
            await asyncio.sleep(0.05)
        stopped_s = time.monotonic() - signalled
        assert process.returncode == 0
        try:  # the request was cut at the grace: an error, or the connection closed
            async with await hanging as response:
                assert response.status >= 500
        except aiohttp.ClientError:
            pass
    assert 1 <= stopped_s < 3


async def test_metrics_on_a_listener_of_their_own_behind_the_metrics_token(
    tmp_path: Path,
) -> None:
    metrics_port = free_port()
    env = {
        "TONLE_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
        "TONLE_METRICS_TOKEN": "metrics-token",
    }
    async with (
        gateway_process(tmp_path, "http://127.0.0.1:9", env) as (process, url),
        aiohttp.ClientSession() as session,
    ):
        metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        async with session.get(url + "/metrics") as response:
            assert response.status == 404  # not where partners' requests arrive
        async with session.get(metrics) as response:
            assert response.status == 401
        token = {"Authorization": "Bearer metrics-token"}
        async with session.get(metrics, headers=token) as response:
            assert response.status == 200
            assert "tonle_subgraph_requests_total" in await response.text()
        async with session.get(f"http://127.0.0.1:{metrics_port}/graphql") as response:
            assert response.status == 404  # the metrics listener serves metrics only
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
