"""Serving several ASGI apps from one process and one event loop, stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine, Generator
from dataclasses import dataclass, replace
from typing import Any, Literal

import uvicorn
from starlette.types import ASGIApp

# The gateway process stops and exposes its metrics by the same rules as the subgraphs'.
from subgraphs.serve import MetricsApart, grace_s, metrics_address


def run(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on uvloop when it is installed (it is, with uvicorn[standard])."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the launcher."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass(frozen=True)
class Service:
    """One app to serve: a name for messages, the app, and where it listens."""

    name: str
    app: ASGIApp
    port: int
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class ServiceGroup:
    """Starts services, waits until each is listening, and stops them all on request."""

    def __init__(self) -> None:
        self.servers: dict[str, _QuietServer] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.stopping = asyncio.Event()

    async def start(
        self,
        service: Service,
        *,
        log_level: str = "warning",
        lifespan: Literal["auto", "on", "off"] = "auto",
        grace_s: int | None = None,
    ) -> str:
        """Serve ``service``; once stopped, requests in flight get ``grace_s`` seconds
        (None: as long as they take) before they are cancelled."""
        config = uvicorn.Config(
            service.app,
            host=service.host,
            port=service.port,
            log_level=log_level,
            access_log=False,
            lifespan=lifespan,
            timeout_graceful_shutdown=grace_s,
        )
        server = _QuietServer(config)
        task = asyncio.create_task(server.serve(), name=service.name)
        self.servers[service.name] = server
        self.tasks.append(task)
        for _ in range(1000):
            if server.started:
                return service.url
            if task.done():
                raise RuntimeError(
                    f"{service.name} could not start on {service.host}:{service.port}; "
                    "is the port already in use? Stop whatever uses it, or pick another port."
                )
            await asyncio.sleep(0.01)
        raise TimeoutError(f"{service.name} did not start within 10 s")

    async def start_process(self, service: Service) -> str:
        """Serve ``service`` as a production process does, by the rules every subgraph
        process follows (``subgraphs.serve``): in-flight requests get
        ``TONLE_SHUTDOWN_GRACE_S`` once stopping, and with ``TONLE_METRICS_ADDRESS`` its
        ``/metrics`` is served there only, on a listener of its own."""
        address = metrics_address()
        if address is None:
            return await self.start(service, grace_s=grace_s())
        metrics = Service(
            f"{service.name} metrics",
            MetricsApart(service.app, metrics_only=True),
            address[1],
            address[0],
        )
        # The metrics listener first: once /health answers, /metrics does too (and a metrics
        # address already in use stops the process before it takes any request).
        await self.start(metrics, lifespan="off")
        main = replace(service, app=MetricsApart(service.app, metrics_only=False))
        return await self.start(main, grace_s=grace_s())

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stopping.set)

    async def wait(self) -> None:
        """Run until a signal arrives or any service stops, then stop every service."""
        stopped = asyncio.create_task(self.stopping.wait())
        await asyncio.wait([stopped, *self.tasks], return_when=asyncio.FIRST_COMPLETED)
        await self.stop()
        stopped.cancel()

    async def stop(self) -> None:
        for server in reversed(list(self.servers.values())):
            server.should_exit = True
        await asyncio.gather(*self.tasks, return_exceptions=True)
