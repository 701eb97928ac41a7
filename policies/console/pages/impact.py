"""Impact, a dry run (``/drafts/{id}/impact?days=N``): the access log's last N days replayed
against the draft — which partners' past requests it would refuse or change, with counts and
examples (record numbers and operation names, never a person)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from policies.console.auth import requires
from policies.console.draft_context import api_schema, draft_of
from policies.console.impact import FEWER_PEOPLE, MASKED, REFUSED, replay
from policies.console.rendering import render
from policies.console.state import console

NAV = None
CHOICES = (1, 7, 30, 90, 365)


@requires()
async def impact_page(request: Request) -> Response:
    draft = await draft_of(request)
    raw = request.query_params.get("days", "30")
    days = int(raw) if raw.isascii() and raw.isdigit() and int(raw) in CHOICES else 30
    report = await replay(console(request).sessions, draft.document, api_schema(request), days=days)
    return render(
        request,
        "impact.html",
        title=f"Impact of draft {draft.id}",
        draft=draft,
        report=report,
        days=days,
        choices=CHOICES,
        kinds=(
            (REFUSED, "refused"),
            (MASKED, "masked differently"),
            (FEWER_PEOPLE, "fewer people"),
        ),
    )


routes: list[BaseRoute] = [Route("/drafts/{draft_id:int}/impact", impact_page, methods=["GET"])]
