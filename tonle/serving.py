"""Serving several ASGI apps from one process and one event loop, stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine, Generator
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.types import ASGIApp


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

    async def start(self, service: Service, *, log_level: str = "warning") -> str:
        config = uvicorn.Config(
            service.app,
            host=service.host,
            port=service.port,
            log_level=log_level,
            access_log=False,
            lifespan="auto",
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
