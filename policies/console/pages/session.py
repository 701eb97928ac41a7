"""Signing in and out (``/login``, ``/logout``)."""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from policies.console.accounts import sign_in
from policies.console.auth import cookie_path, requires, safe_next, set_cookie
from policies.console.rendering import render
from policies.console.sessions import (
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    cookie_header,
    end_session,
    open_session,
)
from policies.console.state import console, url
from policies.console.trail import record

NAV = None
# The same words whatever went wrong, so the form does not tell which accounts exist.
FAILED = (
    "Sign-in failed: the username or password is wrong, or the account is locked or "
    "disabled. After {failures} failed attempts in {window} minutes an account is locked "
    "for {duration} minutes; an administrator can unlock it sooner (tonle admin unlock)."
)
UNKNOWN_ACCOUNT = "(unknown account)"
MAX_PASSWORD = 1024


async def login_page(request: Request) -> Response:
    return render(
        request,
        "login.html",
        title="Sign in",
        next=safe_next(request.query_params.get("next")),
        username="",
        error=None,
    )


async def login(request: Request) -> Response:
    state = console(request)
    config = state.config
    async with request.form() as form:
        username = str(form.get("username") or "").strip().lower()[:64]
        password = str(form.get("password") or "")
        target = safe_next(str(form.get("next") or ""))
    # argon2 reads all it is given: a megabyte "password" must not cost a megabyte of hashing.
    outcome = await sign_in(state.sessions, config, username, password[:MAX_PASSWORD])
    if len(password) > MAX_PASSWORD:
        outcome = replace(outcome, admin=None, outcome="wrong_password")
    if outcome.admin is None or outcome.user_id is None:
        known = outcome.user_id is not None
        # A name that is no account may be a password typed in the wrong box: not kept.
        who = username if known else UNKNOWN_ACCOUNT
        await record(request, "sign_in_failed", who, {"outcome": outcome.outcome}, username=who)
        if outcome.locked_now:
            minutes = int(config.lockout_duration.total_seconds() // 60)
            await record(
                request,
                "locked_out",
                who,
                {"failures": config.lockout_failures, "minutes": minutes},
                username=who,
            )
        message = FAILED.format(
            failures=config.lockout_failures,
            window=int(config.lockout_window.total_seconds() // 60),
            duration=int(config.lockout_duration.total_seconds() // 60),
        )
        return render(
            request,
            "login.html",
            status=401,
            title="Sign in",
            next=target,
            username=username,
            error=message,
        )
    # A new session and a new token at every sign-in: whatever the browser held before,
    # planted or its own, names nothing afterwards.
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await end_session(state.sessions, old)
    client = request.client.host if request.client else None
    token, _ = await open_session(state.sessions, config, outcome.user_id, client)
    path = cookie_path(request.scope)
    secure = config.secure_cookies
    request.state.set_cookies.clear()
    set_cookie(request, cookie_header(SESSION_COOKIE, token, path=path, secure=secure))
    set_cookie(
        request, cookie_header(PRE_SESSION_COOKIE, "", path=path, secure=secure, expire=True)
    )
    await record(request, "sign_in", outcome.admin.username, {}, username=outcome.admin.username)
    return RedirectResponse(url(request, target), status_code=303)


@requires()
async def logout(request: Request) -> Response:
    state = console(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    await record(request, "sign_out", request.state.admin.username, {})
    await end_session(state.sessions, token)
    set_cookie(
        request,
        cookie_header(
            SESSION_COOKIE,
            "",
            path=cookie_path(request.scope),
            secure=state.config.secure_cookies,
            expire=True,
        ),
    )
    return RedirectResponse(url(request, "/login"), status_code=303)


routes: list[BaseRoute] = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
