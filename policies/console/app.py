"""The console as a Starlette app: pages discovered from ``policies.console.pages``.

Each module of ``policies/console/pages/`` exposes ``routes`` (paths relative to the
console's root) and ``NAV`` (label, path, order) or None, and optionally ``NAV_ROLES`` (the
roles whose admins see the entry); a new page is a new module, no other file changes. The
app runs alone (``tonle admin``) or mounted under ``/admin`` on the gateway's port (``tonle
demo``), where the mounting app must run its lifespan.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from identity_store import create_engine, session_factory
from policies.console import pages
from policies.console.auth import ConsoleSessions
from policies.console.config import ConsoleConfig
from policies.console.csrf import CSRFProtection
from policies.console.rendering import render
from policies.console.state import ConsoleState, NavItem

logger = logging.getLogger("tonle.console")

STATIC = Path(__file__).parent / "static"
# Pages load only this host's own styles and scripts, and no other site may frame them.
SECURITY_HEADERS = {
    b"content-security-policy": (
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
}


def discover_pages() -> tuple[list[BaseRoute], tuple[NavItem, ...]]:
    """Every page module's routes, and the navigation their ``NAV`` entries make."""
    routes: list[BaseRoute] = []
    nav: list[NavItem] = []
    for info in sorted(pkgutil.iter_modules(pages.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{pages.__name__}.{info.name}")
        routes.extend(getattr(module, "routes", []))
        entry = getattr(module, "NAV", None)
        if entry is not None:
            label, path, order = entry
            nav.append(NavItem(label, path, order, tuple(getattr(module, "NAV_ROLES", ()))))
    return routes, tuple(sorted(nav, key=lambda n: (n.order, n.label)))


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k not in SECURITY_HEADERS
                ]
                headers.extend(SECURITY_HEADERS.items())
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    titles = {404: "Not found", 405: "Not allowed here"}
    return render(
        request,
        "forbidden.html",
        status=error.status_code,
        title=titles.get(error.status_code, "Refused"),
        message=error.detail
        if error.status_code not in (404, 405)
        else "There is no such page here. Use the navigation above.",
    )


async def _server_error(request: Request, error: Exception) -> Response:
    logger.error("console page %s failed: %s", request.url.path, type(error).__name__)
    return Response(
        "Something went wrong on the server; nothing more is shown here. "
        "The console's log says what.",
        status_code=500,
        media_type="text/plain",
    )


def create_console_app(config: ConsoleConfig) -> Starlette:
    """The policy console for ``config``; its lifespan closes the database pool."""
    engine = create_engine(config.database_url)
    routes, nav = discover_pages()
    state = ConsoleState(config=config, sessions=session_factory(engine), nav=nav)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.dispose()

    app = Starlette(
        routes=[*routes, Mount("/static", StaticFiles(directory=STATIC), name="static")],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(ConsoleSessions),
            Middleware(CSRFProtection),
        ],
        exception_handlers={HTTPException: _http_error, 500: _server_error},
        lifespan=lifespan,
    )
    app.state.console = state
    return app
