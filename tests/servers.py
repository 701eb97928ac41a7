"""Running ASGI apps on real 127.0.0.1 ports inside a test, with uvicorn."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve(app: ASGIApp, *, port: int | None = None) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 until the block ends; yields its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port or free_port(),
        log_level="warning",
        lifespan="auto",
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            if task.done():
                task.result()  # raises what stopped it
                raise RuntimeError("the server stopped before it started")
            await asyncio.sleep(0.01)
        else:
            raise TimeoutError("the server did not start within 5 s")
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, timeout=5)
        except TimeoutError:
            server.force_exit = True
            await asyncio.wait_for(task, timeout=5)


@asynccontextmanager
async def serve_all(apps: dict[str, ASGIApp]) -> AsyncIterator[dict[str, str]]:
    """Serve several apps at once; they start and stop concurrently. Yields name -> URL."""
    from contextlib import AsyncExitStack

    stacks = {name: AsyncExitStack() for name in apps}
    try:
        urls = await asyncio.gather(
            *(stacks[name].enter_async_context(serve(app)) for name, app in apps.items())
        )
        yield dict(zip(apps, urls, strict=True))
    finally:
        await asyncio.gather(*(s.aclose() for s in stacks.values()))
