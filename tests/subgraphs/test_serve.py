"""``python -m subgraphs.<name>`` as a process: it stops within its grace with requests
hanging, and serves its metrics on a listener of their own when asked."""

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

from sandbox import nssf as nssf_sandbox
from sandbox.faults import Faults
from sandbox.population import generate_population
from tests.servers import free_port, serve, wait_healthy

POPULATION = generate_population(50, seed=3)
# uvicorn, once stopped cleanly by a signal, raises that signal again to end the process.
STOPPED = (0, -signal.SIGTERM)
QUERY = (
    "query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { nssf { status } } } }"
)


@asynccontextmanager
async def nssf_subgraph(
    operator_url: str, env: Mapping[str, str]
) -> AsyncIterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TONLE_")}
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, not awaited
        [sys.executable, "-m", "subgraphs.nssf", "--port", str(port)],
        env={**clean, "TONLE_NSSF_URL": operator_url, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(process, url, "subgraph")
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


async def test_sigterm_stops_a_subgraph_within_its_grace_while_a_request_hangs(
    tmp_path: Path,
) -> None:
    sandbox = nssf_sandbox.create_app(
        tmp_path / "nssf.db", seed_population=POPULATION, faults=Faults(hang=True)
    )
    env = {"TONLE_SHUTDOWN_GRACE_S": "1", "TONLE_NSSF_TIMEOUT_S": "60"}
    async with (
        serve(sandbox) as operator,
        nssf_subgraph(operator, env) as (process, url),
        aiohttp.ClientSession() as session,
    ):
        reps = [{"__typename": "Person", "spid": POPULATION.people[0].spid}]
        hanging = asyncio.create_task(
            session.post(url + "/graphql", json={"query": QUERY, "variables": {"r": reps}})
        )
        while sandbox.stats.requests == 0:  # noqa: ASYNC110 - a counter, not an event
            await asyncio.sleep(0.02)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        while process.poll() is None:
            assert time.monotonic() - started < 3, "the subgraph did not stop within 3 s"
            await asyncio.sleep(0.05)
        stopped_s = time.monotonic() - started
        assert process.returncode in STOPPED
        try:  # the request was cut at the grace: an error, or the connection closed
            async with await hanging as response:
                assert response.status >= 500
        except aiohttp.ClientError:
            pass
        # Its call to the operator was cancelled with the request, not left hanging.
        while sandbox.stats.abandoned == 0:
            assert time.monotonic() - started < 3
            await asyncio.sleep(0.02)
    assert 1 <= stopped_s < 3


async def test_metrics_on_a_listener_of_their_own_behind_the_metrics_token() -> None:
    metrics_port = free_port()
    env = {
        "TONLE_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
        "TONLE_METRICS_TOKEN": "metrics-token",
    }
    async with (
        nssf_subgraph("http://127.0.0.1:9", env) as (process, url),
        aiohttp.ClientSession() as session,
    ):
        metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        async with session.get(url + "/metrics") as response:
            assert response.status == 404  # not on the port partners' traffic reaches
        async with session.get(metrics) as response:
            assert response.status == 401
        token = {"Authorization": "Bearer metrics-token"}
        async with session.get(metrics, headers=token) as response:
            assert response.status == 200
            assert "tonle_operator_requests_total" in await response.text()
        async with session.get(f"http://127.0.0.1:{metrics_port}/health") as response:
            assert response.status == 404  # the metrics listener serves metrics only
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) in STOPPED
