"""The Check of a draft (``/drafts/{id}/check``): Cedar validation against the API schema,
and every warning, each linking to the agreement and the control it is about."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from policies.console.auth import requires
from policies.console.draft_context import api_schema, control_id, draft_of, partner_facts
from policies.console.pages.agreements import editor_path
from policies.console.rendering import render
from policies.console.state import url
from policies.console.warnings import KINDS, Finding, check_draft

NAV = None


@requires()
async def check_page(request: Request) -> Response:
    draft = await draft_of(request)
    report = check_draft(draft.document, api_schema(request), await partner_facts(request))

    def link(finding: Finding) -> str | None:
        if not (finding.partner and finding.purpose):
            return None
        if draft.document.agreement(finding.partner, finding.purpose) is None:
            return None
        target = editor_path(draft.id, finding.partner, finding.purpose)
        control = _control(finding)
        if control:
            target += "#" + control_id(control)
        return url(request, target)

    return render(
        request,
        "check.html",
        title=f"Check of draft {draft.id}",
        draft=draft,
        report=report,
        kinds=KINDS,
        link=link,
    )


def _control(finding: Finding) -> str | None:
    """The editor's control a finding is about (its anchor on the editor's page)."""
    name = finding.field
    if name is None:
        return None
    if finding.kind == "missing_field":
        return "stale:" + name
    if "." in name and ":" not in name and "(" not in name:
        return "field:" + name
    return name


routes: list[BaseRoute] = [Route("/drafts/{draft_id:int}/check", check_page, methods=["GET"])]
