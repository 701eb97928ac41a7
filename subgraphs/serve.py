"""Serving one subgraph as a process: uvicorn, a bounded stop, and metrics apart if asked.

On SIGTERM or SIGINT a subgraph stops taking requests, lets those in flight finish for
``TONLE_SHUTDOWN_GRACE_S`` seconds, then cancels them (and with them their statements and
operator calls), so it always stops. With ``TONLE_METRICS_ADDRESS=host:port`` its
``/metrics`` is served there only, on a listener of its own that partners' traffic never
reaches, and the main listener answers 404 for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator

import uvicorn
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

GRACE_ENV = "TONLE_SHUTDOWN_GRACE_S"
METRICS_ADDRESS_ENV = "TONLE_METRICS_ADDRESS"
METRICS_PATH = "/metrics"


def grace_s() -> int:
    """``TONLE_SHUTDOWN_GRACE_S`` (default 5): after SIGTERM, how long requests in flight may
    run on before they are cancelled."""
    raw = os.environ.get(GRACE_ENV, "")
    if not raw:
        return 5
    if not raw.isdigit():
        raise SystemExit(f"{GRACE_ENV}={raw!r}: give a whole number of seconds, such as 5")
    return int(raw)


def metrics_address() -> tuple[str, int] | None:
    """``TONLE_METRICS_ADDRESS`` as (host, port), or None when metrics share the main port."""
    raw = os.environ.get(METRICS_ADDRESS_ENV, "")
    if not raw:
        return None
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SystemExit(f"{METRICS_ADDRESS_ENV}={raw!r}: give host:port, such as 127.0.0.1:9400")
    return host.strip("[]"), int(port)


class MetricsApart:
    """ASGI middleware: the metrics listener serves only /metrics, the main one all but it."""

    def __init__(self, app: ASGIApp, *, metrics_only: bool) -> None:
        self.app = app
        self.metrics_only = metrics_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["path"] == METRICS_PATH) != self.metrics_only:
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _Listener(uvicorn.Server):
    """The metrics listener: the main server handles the signals and stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def run(app: ASGIApp, *, host: str, port: int) -> None:
    """Serve ``app`` on ``host:port`` until SIGTERM or SIGINT (see the module's docstring)."""
    address = metrics_address()
    config = uvicorn.Config(
        MetricsApart(app, metrics_only=False) if address else app,
        host=host,
        port=port,
        # No access log: a GET's query string may carry a SPID or a name.
        access_log=False,
        timeout_graceful_shutdown=grace_s(),
    )
    server = uvicorn.Server(config)
    if address is None:
        server.run()
        return
    listener = _Listener(
        uvicorn.Config(
            MetricsApart(app, metrics_only=True),
            host=address[0],
            port=address[1],
            lifespan="off",  # the main server runs the app's startup and shutdown
            access_log=False,
            log_level="warning",
        )
    )

    async def both() -> None:
        side = asyncio.create_task(listener.serve())
        # The metrics listener up first: once /health answers, /metrics does too; and a
        # metrics address in use stops the process before it takes a request.
        for _ in range(1000):  # uvicorn sets a flag, no event, once it listens
            if listener.started or side.done():
                break
            await asyncio.sleep(0.01)
        if side.done():
            await side
            raise SystemExit(f"cannot serve /metrics on {address[0]}:{address[1]}")
        try:
            await server.serve()
        finally:
            listener.should_exit = True
            await side

    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(both())
