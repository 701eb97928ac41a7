"""The console's home: the published version, drafts waiting for approval, one's own."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from policies.console.auth import requires
from policies.console.drafts_store import OPEN, SUBMITTED, list_drafts
from policies.console.rendering import render
from policies.console.state import console
from policies.repository import published

NAV = ("Home", "/", 0)


@requires()
async def home(request: Request) -> Response:
    sessions = console(request).sessions
    drafts = await list_drafts(sessions, statuses=OPEN)
    me = request.state.admin.username
    return render(
        request,
        "home.html",
        title="Home",
        published=await published(sessions),
        waiting=[d for d in drafts if d.status == SUBMITTED and d.author != me],
        mine=[d for d in drafts if d.author == me],
    )


routes: list[BaseRoute] = [Route("/", home, methods=["GET"])]
