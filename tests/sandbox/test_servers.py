"""tests/servers.py: apps come up on a real port, fail loudly, and always shut down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.servers import ServerFailedToStart, serve, serve_all


def app_with_lifespan(events: list[str], *, fail: bool = False) -> Starlette:
    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if fail:
            raise RuntimeError("no database")
        events.append("startup")
        yield
        events.append("shutdown")

    async def hello(_: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    async def hang(_: Request) -> PlainTextResponse:
        await asyncio.sleep(3600)
        return PlainTextResponse("never")

    return Starlette(routes=[Route("/", hello), Route("/hang", hang)], lifespan=lifespan)


async def test_an_app_is_served_after_startup_and_shut_down_after_the_block() -> None:
    events: list[str] = []
    async with serve(app_with_lifespan(events)) as url, aiohttp.ClientSession() as session:
        assert events == ["startup"]
        async with session.get(url + "/") as response:
            assert await response.text() == "hello"
    assert events == ["startup", "shutdown"]
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(url + "/")


async def test_a_failed_startup_raises_instead_of_serving() -> None:
    with pytest.raises(ServerFailedToStart):
        async with serve(app_with_lifespan([], fail=True)):
            pass


async def test_a_hanging_request_does_not_block_shutdown() -> None:
    events: list[str] = []
    loop = asyncio.get_running_loop()
    async with serve(app_with_lifespan(events), grace_s=1) as url:
        session = aiohttp.ClientSession()
        pending = asyncio.create_task(session.get(url + "/hang"))
        await asyncio.sleep(0.1)
        started = loop.time()
    assert loop.time() - started < 4
    assert events[-1] == "shutdown"
    pending.cancel()
    await asyncio.gather(pending, return_exceptions=True)
    await session.close()


async def test_several_apps_get_distinct_ports() -> None:
    apps = {name: app_with_lifespan([]) for name in ("a", "b", "c")}
    async with serve_all(apps) as urls:
        assert len(set(urls.values())) == 3
        async with aiohttp.ClientSession() as session:
            for url in urls.values():
                async with session.get(url + "/") as response:
                    assert response.status == 200
