"""See as this partner (``/drafts/{id}/preview``): the partner's schema under the draft and
how it differs from the published one; and a query run as that partner and purpose under the
draft against the live system (editors and approvers; logged as the admin's access)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from policies.cedar import PartnerFacts
from policies.console.auth import requires
from policies.console.draft_context import api_schema, draft_of, partner_facts
from policies.console.drafts_store import Draft
from policies.console.preview import (
    PreviewAnswer,
    PreviewGateway,
    PreviewQuery,
    admin_partner,
    schema_preview,
)
from policies.console.rendering import render
from policies.console.state import ConsoleState, console
from policies.console.trail import record
from policies.repository import published

NAV = None
MAX_QUERY = 100_000
EXAMPLE = """query Preview($spid: String!) {
  person(spid: $spid) {
    spid
    familyName
    birthDate
  }
}"""


def previewer(state: ConsoleState) -> PreviewGateway | None:
    """The console's one preview gateway (its rate budgets last as long as the process)."""
    found = state.extras.get("preview")
    if found is None and state.supergraph_sdl is not None:
        from gateway import GatewaySettings

        config = state.config
        found = state.extras["preview"] = PreviewGateway(
            state.supergraph_sdl,
            state.sessions,
            subgraph_urls=config.subgraph_urls,
            gateway_secret=config.gateway_secret,
            subgraph_timeout_s=config.subgraph_timeout_s,
            pseudonym_key=config.pseudonym_key,
            limits=GatewaySettings.from_env().limits,
        )
    return found if isinstance(found, PreviewGateway) else None


@requires()
async def preview_page(request: Request) -> Response:
    draft = await draft_of(request)
    return await _page(
        request,
        draft,
        request.query_params.get("partner", ""),
        request.query_params.get("purpose", ""),
    )


async def _page(
    request: Request,
    draft: Draft,
    partner: str,
    purpose: str,
    *,
    asked: dict[str, str] | None = None,
    answer: PreviewAnswer | None = None,
    problem: str | None = None,
) -> Response:
    state = console(request)
    api_schema(request)  # a page saying so when the console has no supergraph
    current = await published(state.sessions)
    pairs = sorted(
        {(a.partner, a.purpose) for a in draft.document.agreements}
        | {(a.partner, a.purpose) for a in (current.document.agreements if current else ())}
    )
    known = await partner_facts(request)
    preview = None
    if (partner, purpose) in pairs:
        gateway = previewer(state)
        assert gateway is not None
        preview = schema_preview(
            gateway.gateway(),
            known.get(partner) or PartnerFacts(partner, ""),
            purpose,
            draft.document,
            f"draft {draft.id}",
            current.document if current else None,
            f"version {current.number}" if current else "nothing published",
        )
    admin = request.state.admin
    return render(
        request,
        "preview.html",
        status=400 if problem else 200,
        title=f"Preview of draft {draft.id}",
        draft=draft,
        pairs=pairs,
        partner=partner,
        purpose=purpose,
        unknown_partner=bool(partner) and partner not in known,
        preview=preview,
        published=current,
        can_run=admin.has("editor", "approver"),
        asked=asked or {"query": EXAMPLE, "variables": '{"spid": ""}', "operation_name": ""},
        answer=answer,
        answer_json=orjson.dumps(answer.body, option=orjson.OPT_INDENT_2).decode()
        if answer
        else "",
        problem=problem,
        logged_as=admin_partner(admin.username),
        can_audit=admin.has("auditor"),
    )


@requires("editor", "approver")
async def preview_run(request: Request) -> Response:
    draft = await draft_of(request)
    async with request.form() as form:
        asked = {
            name: str(form.get(name) or "")
            for name in ("partner", "purpose", "query", "variables", "operation_name")
        }
    partner, purpose = asked["partner"].strip(), asked["purpose"].strip()
    variables: Any = {}
    problem = None
    if not asked["query"].strip():
        problem = "Write the query to run."
    elif len(asked["query"]) > MAX_QUERY or len(asked["variables"]) > MAX_QUERY:
        problem = f"The query and its variables are at most {MAX_QUERY:,} characters each."
    elif asked["variables"].strip():
        try:
            variables = orjson.loads(asked["variables"])
        except orjson.JSONDecodeError:
            problem = 'The variables are not JSON: write an object such as {"spid": "..."}.'
        else:
            if not isinstance(variables, dict):
                problem = 'The variables are a JSON object such as {"spid": "..."}.'
    if problem is not None:
        return await _page(request, draft, partner, purpose, asked=asked, problem=problem)
    api_schema(request)
    gateway = previewer(console(request))
    assert gateway is not None
    answer = await gateway.run(
        draft.document,
        f"draft {draft.id}",
        request.state.admin.username,
        PreviewQuery(
            partner,
            purpose,
            asked["query"],
            variables,
            asked["operation_name"].strip() or None,
        ),
    )
    # Which document ran, never its text or variables: they may name people.
    await record(
        request,
        "preview_query",
        f"draft {draft.id}",
        {
            "partner": partner[:64],
            "purpose": purpose[:64],
            "document_sha256": hashlib.sha256(asked["query"].encode()).hexdigest(),
            "status": answer.status,
            "codes": sorted({c for c in answer.codes if c}),
            "access_log_seq": answer.logged_seq,
        },
    )
    return await _page(request, draft, partner, purpose, asked=asked, answer=answer)


routes: list[BaseRoute] = [
    Route("/drafts/{draft_id:int}/preview", preview_page, methods=["GET"]),
    Route("/drafts/{draft_id:int}/preview", preview_run, methods=["POST"]),
]
