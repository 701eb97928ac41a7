"""A subgraph stops working on a request once its client has given up on it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp
import pytest
import strawberry

from policies import SIGNATURE_HEADER, sign
from subgraphs.server import build_subgraph_app
from tests.servers import serve


@dataclass
class Work:
    """What the slow resolver did: started, was cancelled, or ran to its end."""

    started: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    finished: bool = False


def slow_schema(work: Work) -> strawberry.federation.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        async def slow(self) -> str:
            work.started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                work.cancelled.set()
                raise
            work.finished = True
            return "late"

        @strawberry.field
        def quick(self) -> str:
            return "now"

    return strawberry.federation.Schema(query=Query)


async def give_up(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> None:
    """Post ``body`` and stop waiting after 0.5 s, as the gateway does at its timeout."""
    with pytest.raises(TimeoutError):
        async with session.post(
            url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=0.5)
        ) as response:
            await response.read()


async def cancelled_within(work: Work, seconds: float) -> float:
    gave_up = time.monotonic()
    await asyncio.wait_for(work.cancelled.wait(), timeout=seconds)
    return time.monotonic() - gave_up


async def metric(session: aiohttp.ClientSession, url: str, name: str) -> float:
    async with session.get(url + "/metrics") as response:
        text = await response.text()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


async def test_a_request_whose_client_hangs_up_is_cancelled_and_counted() -> None:
    work = Work()
    app = build_subgraph_app(slow_schema(work), name="slow", gateway_secret="")
    headers = {"Content-Type": "application/json"}
    async with serve(app) as url, aiohttp.ClientSession() as session:
        await give_up(session, url + "/graphql", b'{"query": "{ slow }"}', headers)
        assert work.started.is_set()
        took = await cancelled_within(work, 1.0)
        assert took < 1.0
        assert not work.finished
        assert await metric(session, url, "tonle_cancelled_requests_total") == 1
        # Requests answered in time are neither cancelled nor counted.
        async with session.post(url + "/graphql", json={"query": "{ quick }"}) as response:
            assert await response.json() == {"data": {"quick": "now"}}
        assert await metric(session, url, "tonle_cancelled_requests_total") == 1


async def test_a_signed_request_is_cancelled_too() -> None:
    work = Work()
    app = build_subgraph_app(slow_schema(work), name="slow", gateway_secret="shared")
    body = b'{"query": "{ slow }"}'
    signature = sign("shared", method="POST", audience="slow", target="/graphql", body=body)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
    async with serve(app) as url, aiohttp.ClientSession() as session:
        await give_up(session, url + "/graphql", body, headers)
        assert await cancelled_within(work, 1.0) < 1.0
        assert not work.finished


async def test_a_client_that_waits_gets_its_answer_however_long_it_takes() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        async def patient(self) -> str:
            await asyncio.sleep(0.8)
            return "done"

    app = build_subgraph_app(strawberry.federation.Schema(query=Query), name="p", gateway_secret="")
    async with serve(app) as url, aiohttp.ClientSession() as session:
        async with session.post(url + "/graphql", json={"query": "{ patient }"}) as response:
            assert await response.json() == {"data": {"patient": "done"}}
        assert await metric(session, url, "tonle_cancelled_requests_total") == 0
