"""Who is signed in, and what they may do: the session middleware and ``@requires``.

``ConsoleSessions`` (ASGI middleware) finds the request's session from its cookie and
puts the admin on ``request.state.admin`` (None when nobody is signed in) and the CSRF
token forms must carry on ``request.state.csrf_token``. ``@requires("editor")`` guards an
endpoint: nobody signed in → 303 to the sign-in page with ``next=``; signed in without
any of the roles → a 403 page naming them (recorded in the trail when it tried a change).
Every signed-in admin may read; roles decide who may change what.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from policies.console.accounts import Admin
from policies.console.models import ROLES
from policies.console.sessions import (
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    SessionInfo,
    cookie_header,
    new_token,
    resume,
)
from policies.console.state import console, route_path, url

__all__ = ["ROLES", "Admin", "ConsoleSessions", "cookie_path", "requires", "safe_next"]

Endpoint = Callable[[Request], Awaitable[Response]]
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
ROLE_NAMES = {
    "editor": "editor (drafts changes)",
    "approver": "approver (approves and publishes)",
    "auditor": "auditor (reads the trails)",
}


def cookie_path(scope: Scope) -> str:
    return scope.get("root_path", "").rstrip("/") or "/"


class ConsoleSessions:
    """Resolves the session cookie into ``request.state.admin`` and ``.csrf_token``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or route_path(scope).startswith("/static/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        state = console(request)
        token = request.cookies.get(SESSION_COOKIE, "")
        info: SessionInfo | None = None
        if token:
            info = await resume(state.sessions, state.config, token)
        secure = state.config.secure_cookies
        path = cookie_path(scope)
        cookies: list[str] = []
        if info is not None:
            csrf = info.csrf_token
        else:
            if token:  # ended, revoked or never ours: the browser may forget it
                cookies.append(
                    cookie_header(SESSION_COOKIE, "", path=path, secure=secure, expire=True)
                )
            csrf = request.cookies.get(PRE_SESSION_COOKIE, "")
            if not _TOKEN.match(csrf):
                csrf = new_token()
                cookies.append(cookie_header(PRE_SESSION_COOKIE, csrf, path=path, secure=secure))
        scoped = scope.setdefault("state", {})
        scoped["admin"] = info.admin if info else None
        scoped["session"] = info
        scoped["csrf_token"] = csrf
        scoped["set_cookies"] = cookies

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend((b"set-cookie", c.encode("latin-1")) for c in scoped["set_cookies"])
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookies)


def set_cookie(request: Request, header: str) -> None:
    """Add a Set-Cookie to whatever response this request gets."""
    request.state.set_cookies.append(header)


def requires(*roles: str) -> Callable[[Endpoint], Endpoint]:
    """Guard an endpoint: a signed-in admin holding any of ``roles`` (any admin when none)."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown roles {unknown}; roles are {', '.join(ROLES)}")

    def wrap(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            admin: Admin | None = getattr(request.state, "admin", None)
            if admin is None:
                return to_sign_in(request)
            if roles and not admin.has(*roles):
                return await forbidden(request, roles)
            return await endpoint(request)

        return guarded

    return wrap


def to_sign_in(request: Request) -> Response:
    """303 to the sign-in page, coming back here afterwards (GETs only: a form's post
    cannot be replayed)."""
    target = url(request, "/login")
    if request.method == "GET":
        here = route_path(request.scope)
        if request.url.query:
            here += "?" + request.url.query
        if here not in ("", "/"):
            target += "?next=" + quote(here, safe="/")
    return RedirectResponse(target, status_code=303)


async def forbidden(request: Request, roles: tuple[str, ...]) -> Response:
    from policies.console.rendering import render
    from policies.console.trail import record

    needed = " or ".join(ROLE_NAMES[r] for r in roles)
    if request.method not in SAFE_METHODS:
        await record(request, "refused", request.url.path, {"reason": "role", "needs": list(roles)})
    return render(
        request,
        "forbidden.html",
        status=403,
        title="Not allowed",
        message=f"This needs the role {needed}. Ask an administrator to grant it "
        "(tonle admin create-user ... --role).",
    )


def safe_next(value: str | None) -> str:
    """A ``next=`` target within the console (a path such as ``/drafts/3``), else ``/``.

    Refuses anything that could leave the console: absolute URLs, scheme-relative
    ``//host``, backslashes browsers read as slashes, control characters.
    """
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value
