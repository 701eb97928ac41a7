"""What the pages under a draft (agreements, check, preview, impact) read: the draft, the
API schema, the partners, and whether the signed-in admin may change the draft."""

from __future__ import annotations

import re

from graphql import GraphQLSchema
from starlette.exceptions import HTTPException
from starlette.requests import Request

from policies.cedar import PartnerFacts
from policies.console.drafts_store import Draft, UnknownDraft, load_draft
from policies.console.state import console
from policies.repository import list_partners

# Forms of the agreement editor hold a few hundred controls (and every chosen area).
MAX_FORM_FIELDS = 10_000


async def draft_of(request: Request) -> Draft:
    """The draft the path names, or a 404 page."""
    try:
        return await load_draft(console(request).sessions, int(request.path_params["draft_id"]))
    except UnknownDraft:
        raise HTTPException(404, "There is no such draft.") from None


def api_schema(request: Request) -> GraphQLSchema:
    """The supergraph's API schema, or a page saying the console was started without one."""
    schema = console(request).api_schema
    if schema is None:
        raise HTTPException(
            503,
            "The console has no supergraph (TONLE_SUPERGRAPH), so it cannot show the API "
            "schema: start it with the supergraph the gateways serve.",
        )
    return schema


async def partner_facts(request: Request) -> dict[str, PartnerFacts]:
    return {p.code: p.facts for p in await list_partners(console(request).sessions)}


def may_edit(request: Request, draft: Draft) -> bool:
    """Whether the signed-in admin may change this draft's document: its author, an editor,
    while it is an editable draft."""
    admin = request.state.admin
    return bool(
        admin is not None
        and admin.has("editor")
        and draft.author == admin.username
        and draft.editable
    )


def control_id(name: str) -> str:
    """An HTML id for a form control named ``name`` (``field:Person.khmerId`` →
    ``c-field-Person-khmerId``), so a problem can link to its control."""
    return "c-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")
