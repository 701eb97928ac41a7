"""``tonle analyst``: the analyst page and its jobs API, alone or at ``/analyst`` on the gateway.

    tonle analyst --gateway http://127.0.0.1:4000/graphql --port 4200
    tonle gateway --analyst …            # beside /graphql, as tonle demo runs it

Job files go to ``TONLE_ANALYST_JOBS_DIR`` (default: a fresh temporary directory, removed
when the service stops).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount

JOBS_ENV = "TONLE_ANALYST_JOBS_DIR"

Lifespan = Callable[[], AbstractAsyncContextManager[None]]


def _app(gateway_url: str) -> tuple[Starlette, Lifespan]:
    from analysts.web import AnalystConfig, create_analyst_app

    chosen = os.environ.get(JOBS_ENV)
    root = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="tonle-analyst-jobs-"))
    app = create_analyst_app(AnalystConfig(gateway_url, root))

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        try:
            async with app.router.lifespan_context(app):
                yield
        finally:
            if not chosen:
                shutil.rmtree(root, ignore_errors=True)

    return app, lifespan


def analyst_mount(gateway_url: str, lifespan: Lifespan | None) -> tuple[Mount, Lifespan]:
    """The analyst app mounted at /analyst, and a lifespan running it with ``lifespan``."""
    app, own = _app(gateway_url)

    @asynccontextmanager
    async def both() -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if lifespan is not None:
                await stack.enter_async_context(lifespan())
            await stack.enter_async_context(own())
            yield

    return Mount("/analyst", app=app), both


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    analyst = sub.add_parser(
        "analyst", help="serve the analyst page and its jobs API (coverage reports, exports)"
    )
    analyst.add_argument(
        "--gateway", default="http://127.0.0.1:4000/graphql", help="the gateway's /graphql URL"
    )
    analyst.add_argument("--host", default="127.0.0.1")
    analyst.add_argument("--port", type=int, default=4200)
    analyst.set_defaults(func=analyst_command)


def analyst_command(args: argparse.Namespace) -> int:
    from tonle.serving import Service, ServiceGroup
    from tonle.serving import run as serve_forever

    mount, lifespan = analyst_mount(args.gateway, None)
    app = Starlette(routes=[mount], lifespan=lambda _: lifespan())

    async def run() -> Any:
        group = ServiceGroup()
        group.install_signal_handlers()
        url = await group.start_process(Service("analyst", app, args.port, args.host))
        print(f"Analyst page on {url}/analyst/ (asking {args.gateway})", flush=True)
        await group.wait()

    serve_forever(run())
    return 0
