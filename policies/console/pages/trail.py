"""The admin trail (``/trail``, auditors): who did what, when, from where; filtered."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from policies.console.auth import requires
from policies.console.rendering import render
from policies.console.state import console
from policies.console.trail import actions, entries

NAV = ("Admin trail", "/trail", 60)
NAV_ROLES = ("auditor",)
PAGE = 100


def _day(raw: str | None) -> dt.datetime | None:
    if not raw:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(raw), dt.time(), dt.UTC)
    except ValueError:
        return None


@requires("auditor")
async def trail_page(request: Request) -> Response:
    params = request.query_params
    until = _day(params.get("until"))
    before = params.get("before", "")
    found = await entries(
        console(request).sessions,
        username=params.get("admin") or None,
        action=params.get("action") or None,
        since=_day(params.get("since")),
        until=until + dt.timedelta(days=1) if until else None,
        before_id=int(before) if before.isdigit() else None,
        first=PAGE + 1,
    )
    more = len(found) > PAGE
    shown = found[:PAGE]
    filters = {k: params.get(k, "") for k in ("admin", "action", "since", "until")}
    return render(
        request,
        "trail.html",
        title="Admin trail",
        entries=shown,
        filters=filters,
        actions=await actions(console(request).sessions),
        next_before=shown[-1].id if more and shown else None,
    )


routes: list[BaseRoute] = [Route("/trail", trail_page, methods=["GET"])]
