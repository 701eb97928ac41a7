"""Running ASGI apps on real 127.0.0.1 ports inside a test, with uvicorn.

``async with serve(app) as url:`` starts ``app`` in a background task of the running
event loop, returns once it accepts connections (lifespan startup done), and on leaving
the block shuts it down: requests still in flight get ``grace_s`` seconds, then are
cancelled, then the app's lifespan shutdown runs. The port is bound before uvicorn
starts, so two servers never race for the same free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiohttp
import uvicorn
from starlette.types import ASGIApp


class ServerFailedToStart(RuntimeError):
    """The app did not come up: lifespan startup failed or the server stopped early."""


class _TestServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def free_port() -> int:
    """A port free right now on 127.0.0.1 (for "nothing listens here" tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@asynccontextmanager
async def serve(
    app: ASGIApp,
    *,
    port: int | None = None,
    start_timeout_s: float = 10.0,
    grace_s: int = 1,
    tls: Mapping[str, Any] | None = None,
) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 until the block ends; yields its base URL.

    Without ``port``, a free port is picked. Raises :class:`ServerFailedToStart` when the app
    does not come up within ``start_timeout_s``. ``tls`` are uvicorn's ``ssl_*`` settings
    (``ssl_certfile``, ``ssl_keyfile``, ``ssl_ca_certs``, ``ssl_cert_reqs``); with them the
    URL is https.
    """
    sock = _listening_socket(port or 0)
    bound_port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=bound_port,
        lifespan="auto",
        log_config=None,  # leave the test run's logging configuration alone
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=grace_s,
        **(tls or {}),
    )
    server = _TestServer(config)
    task = asyncio.create_task(_run(server, sock), name=f"uvicorn:{bound_port}")
    try:
        await _wait_started(server, task, start_timeout_s)
        yield f"{'https' if tls else 'http'}://127.0.0.1:{bound_port}"
    finally:
        await _stop(server, task, grace_s)
        sock.close()


async def _run(server: uvicorn.Server, sock: socket.socket) -> None:
    try:
        await server.serve(sockets=[sock])
    except SystemExit as error:
        # uvicorn exits the process when lifespan startup fails; inside a task asyncio
        # would let SystemExit escape the event loop and end the whole test run.
        raise ServerFailedToStart(f"uvicorn exited with status {error.code}") from None


async def _wait_started(server: uvicorn.Server, task: asyncio.Task[None], within_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not server.started:
        if task.done():
            try:
                task.result()
            except ServerFailedToStart:
                raise
            except Exception as error:
                raise ServerFailedToStart(f"the app failed to start: {error!r}") from error
            raise ServerFailedToStart("the server stopped before it started")
        if loop.time() > deadline:
            raise ServerFailedToStart(f"the app did not start within {within_s:g} s")
        await asyncio.sleep(0.005)


async def _stop(server: uvicorn.Server, task: asyncio.Task[None], grace_s: float) -> None:
    if task.done():
        with contextlib.suppress(Exception, asyncio.CancelledError):
            task.result()
        return
    server.should_exit = True
    # asyncio.wait, not wait_for: a timeout must not cancel the server mid-shutdown.
    done, _ = await asyncio.wait({task}, timeout=grace_s + 5)
    if not done:
        server.force_exit = True
        done, _ = await asyncio.wait({task}, timeout=5)
    if not done:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return
    task.result()


@asynccontextmanager
async def serve_all(apps: Mapping[str, ASGIApp]) -> AsyncIterator[dict[str, str]]:
    """Serve several apps at once; they start and stop concurrently. Yields name -> URL."""
    stacks = {name: AsyncExitStack() for name in apps}
    try:
        started = await asyncio.gather(
            *(stacks[name].enter_async_context(serve(app)) for name, app in apps.items()),
            return_exceptions=True,
        )
        for outcome in started:
            if isinstance(outcome, BaseException):
                raise outcome
        yield {name: str(url) for name, url in zip(apps, started, strict=True)}
    finally:
        await asyncio.gather(*(stack.aclose() for stack in stacks.values()))


async def wait_healthy(
    process: subprocess.Popen[bytes], url: str, what: str, within_s: float = 30.0
) -> None:
    """Wait until the process started as ``what`` answers 200 on ``url``/health."""
    deadline = time.monotonic() + within_s
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url + "/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if process.poll() is not None:
                errors = process.stderr.read() if process.stderr else b""
                raise AssertionError(f"the {what} stopped before it started: {errors!r}")
            assert time.monotonic() < deadline, f"the {what} did not start in {within_s:.0f} s"
            await asyncio.sleep(0.1)
