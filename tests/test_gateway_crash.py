"""A gateway process killed in the middle of answering partners leaves an access log whose
chain verifies, without a gap, holding a record for every answer that left."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp

from bench.gateway.expected import QUERY
from bench.gateway.policy import _prepare as prepare_policy
from identity_store import create_engine, session_factory
from policies.audit import load_signing_key, verify
from tests.gateway.classic import SUBGRAPHS, supergraph_sdl
from tests.gateway.conftest import start_stack
from tests.servers import free_port

ROOT = Path(__file__).parents[1]


async def test_a_gateway_killed_mid_request_leaves_a_whole_chain(tmp_path: Path) -> None:
    async with AsyncExitStack() as exits:
        subgraphs = await start_stack(SUBGRAPHS, supergraph_sdl, stack=exits)
        supergraph = tmp_path / "supergraph.graphql"
        supergraph.write_text(supergraph_sdl(subgraphs.subgraph_urls))
        policy = await prepare_policy(tmp_path)
        port = free_port()
        gateway = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tonle.cli", "gateway", "--supergraph", str(supergraph),
            "--port", str(port), "--database", policy.database_url,
            cwd=ROOT, env={**os.environ, **policy.env},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}/graphql"
        headers = {"Authorization": f"Bearer {policy.api_key}", "X-Purpose": "benchmark"}
        answered = 0
        enough = asyncio.Event()
        session = await exits.enter_async_context(aiohttp.ClientSession())
        for _ in range(200):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url.replace("/graphql", "/health")) as response:
                    if response.status == 200:
                        break
            await asyncio.sleep(0.05)

        async def partner() -> None:
            nonlocal answered
            while True:
                try:
                    async with session.post(url, json={"query": QUERY}, headers=headers) as r:
                        body = await r.json()
                except (TimeoutError, aiohttp.ClientError):
                    return  # the gateway is gone
                assert r.status == 200 and "errors" not in body, body
                answered += 1
                if answered >= 80:
                    enough.set()

        partners = [asyncio.create_task(partner()) for _ in range(16)]
        await asyncio.wait_for(enough.wait(), 60)
        gateway.send_signal(signal.SIGKILL)  # mid-request: 16 are in flight
        await gateway.wait()
        await asyncio.gather(*partners)

    engine = create_engine(policy.database_url)
    try:
        key = load_signing_key(Path(policy.env["TONLE_AUDIT_SIGNING_KEY"])).public_key()
        report = await verify(session_factory(engine), key)
    finally:
        await engine.dispose()
    assert report.intact, report.findings
    # Every answer that left was logged first; some logged ones died with the gateway.
    assert report.records >= answered >= 80
    assert report.last_seq == report.records  # seq 1..n: no gap
