"""The agreement editor (``/drafts/{id}/agreements``): a draft's agreements, and one
agreement per partner and purpose edited field by field. Saving changes the draft only."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from policies.cedar import Catalogue
from policies.console.auth import requires
from policies.console.draft_context import (
    MAX_FORM_FIELDS,
    api_schema,
    control_id,
    draft_of,
    may_edit,
    partner_facts,
)
from policies.console.drafting import (
    Applied,
    FormProblem,
    add_agreement,
    agreement_changes,
    agreement_form,
    apply_agreement_form,
    remove_agreement,
    summarise,
)
from policies.console.drafts_store import Draft, DraftError, save_draft_document
from policies.console.rendering import render
from policies.console.sessions import add_flash
from policies.console.state import console, url
from policies.console.trail import record
from policies.masks import MASKS
from policies.model import PolicyDocument
from policies.repository import version_document

NAV = None


def editor_path(draft_id: int, partner: str, purpose: str) -> str:
    return f"/drafts/{draft_id}/agreements/{quote(partner, safe='')}/{quote(purpose, safe='')}"


@requires()
async def agreement_list(request: Request) -> Response:
    return await _list_page(request, await draft_of(request))


async def _list_page(
    request: Request,
    draft: Draft,
    *,
    problems: Sequence[FormProblem] = (),
    typed: dict[str, str] | None = None,
) -> Response:
    sessions = console(request).sessions
    base = None
    if draft.base_version is not None:
        base = (await version_document(sessions, draft.base_version)).document
    schema = api_schema(request)
    return render(
        request,
        "agreements.html",
        status=400 if problems else 200,
        title=f"Agreements of draft {draft.id}",
        draft=draft,
        summaries=summarise(draft.document, schema, base),
        partners=sorted(await partner_facts(request)),
        purposes=sorted(draft.document.purposes.values(), key=lambda p: p.code),
        can_edit=may_edit(request, draft),
        problems=problems,
        typed=typed or {},
        editor_path=lambda p, q: url(request, editor_path(draft.id, p, q)),
    )


async def _save(
    request: Request, draft: Draft, document: PolicyDocument, action: str, **details: object
) -> Response | None:
    """Store ``document`` as the draft's, recorded in the trail; a refusal page, or None."""
    try:
        await save_draft_document(
            console(request).sessions, draft.id, document, by=request.state.admin.username
        )
    except DraftError as error:
        await record(
            request, "refused", f"draft {draft.id}", {"tried": action, "message": str(error)}
        )
        return render(request, "forbidden.html", status=403, title="Not saved", message=str(error))
    await record(request, action, f"draft {draft.id}", dict(details))
    return None


async def _flash(request: Request, message: str) -> None:
    await add_flash(console(request).sessions, request.state.session.id, message)


@requires("editor")
async def agreement_add(request: Request) -> Response:
    draft = await draft_of(request)
    async with request.form() as form:
        partner = str(form.get("partner") or "").strip()
        purpose = str(form.get("purpose") or "").strip()
        copy = str(form.get("copy_of") or "")
    source = tuple(copy.split("/", 1)) if "/" in copy else None
    applied = add_agreement(
        draft.document,
        partner,
        purpose,
        copy_of=(source[0], source[1]) if source else None,
    )
    if applied.document is None:
        typed = {"partner": partner, "purpose": purpose, "copy_of": copy}
        return await _list_page(request, draft, problems=applied.problems, typed=typed)
    refused = await _save(
        request,
        draft,
        applied.document,
        "agreement_add",
        partner=partner,
        purpose=purpose,
        copy_of=copy or None,
    )
    if refused is not None:
        return refused
    await _flash(
        request,
        f"Added an agreement for {partner} and {purpose}; it shows nothing yet."
        if not source
        else f"Added {partner}/{purpose}, a copy of {copy}.",
    )
    return RedirectResponse(url(request, editor_path(draft.id, partner, purpose)), 303)


@requires("editor")
async def agreement_remove(request: Request) -> Response:
    draft = await draft_of(request)
    partner, purpose = request.path_params["partner"], request.path_params["purpose"]
    applied = remove_agreement(draft.document, partner, purpose)
    if applied.document is None:
        raise HTTPException(404, applied.problems[0].message)
    refused = await _save(
        request, draft, applied.document, "agreement_remove", partner=partner, purpose=purpose
    )
    if refused is not None:
        return refused
    await _flash(request, f"Removed the agreement of {partner} for {purpose} from this draft.")
    return RedirectResponse(url(request, f"/drafts/{draft.id}/agreements"), 303)


@requires()
async def agreement_page(request: Request) -> Response:
    draft = await draft_of(request)
    return _editor(request, draft)


def _editor(
    request: Request,
    draft: Draft,
    *,
    submitted: dict[str, list[str]] | None = None,
    applied: Applied | None = None,
) -> Response:
    partner, purpose = request.path_params["partner"], request.path_params["purpose"]
    if draft.document.agreement(partner, purpose) is None:
        raise HTTPException(404, f"Draft {draft.id} has no agreement for {partner} and {purpose}.")
    problems = applied.problems if applied else ()
    form = agreement_form(
        draft.document,
        api_schema(request),
        partner,
        purpose,
        submitted=submitted,
        problems=problems,
    )
    return render(
        request,
        "agreement_editor.html",
        status=400 if problems else 200,
        title=f"{partner} for {purpose} (draft {draft.id})",
        draft=draft,
        form=form,
        problems=problems,
        can_edit=may_edit(request, draft),
        ident=control_id,
        masks={name: mask.description for name, mask in MASKS.items()},
        action=url(request, editor_path(draft.id, partner, purpose)),
    )


def _lists(form: FormData) -> dict[str, list[str]]:
    return {key: [str(v) for v in form.getlist(key)] for key in form if key != "csrf_token"}


@requires("editor")
async def agreement_save(request: Request) -> Response:
    draft = await draft_of(request)
    partner, purpose = request.path_params["partner"], request.path_params["purpose"]
    schema = api_schema(request)
    async with request.form(max_fields=MAX_FORM_FIELDS) as form:
        submitted = _lists(form)
    if not may_edit(request, draft):
        message = (
            f"Draft {draft.id} is {draft.author}'s and {draft.status}: only its author edits it, "
            "while it is a draft. Start a draft of your own from the published version."
        )
        await record(request, "refused", f"draft {draft.id}", {"tried": "agreement_edit"})
        return render(request, "forbidden.html", status=403, title="Not saved", message=message)
    applied = apply_agreement_form(draft.document, schema, partner, purpose, submitted)
    if applied.document is None:
        return _editor(request, draft, submitted=submitted, applied=applied)
    if applied.document is draft.document:
        await _flash(request, "Nothing changed.")
        return RedirectResponse(url(request, editor_path(draft.id, partner, purpose)), 303)
    old, new = (
        draft.document.agreement(partner, purpose),
        applied.document.agreement(partner, purpose),
    )
    assert old is not None and new is not None
    changes = agreement_changes(old, new, Catalogue.of(schema))
    refused = await _save(
        request,
        draft,
        applied.document,
        "agreement_edit",
        partner=partner,
        purpose=purpose,
        changes=changes[:50],
    )
    if refused is not None:
        return refused
    shown = "; ".join(changes[:5]) + (f"; and {len(changes) - 5} more" if len(changes) > 5 else "")
    await _flash(request, f"Saved {partner}/{purpose}: {shown or 'no visible change'}.")
    return RedirectResponse(url(request, editor_path(draft.id, partner, purpose)), 303)


routes: list[BaseRoute] = [
    Route("/drafts/{draft_id:int}/agreements", agreement_list, methods=["GET"]),
    Route("/drafts/{draft_id:int}/agreements", agreement_add, methods=["POST"]),
    Route("/drafts/{draft_id:int}/agreements/{partner}/{purpose}", agreement_page, methods=["GET"]),
    Route(
        "/drafts/{draft_id:int}/agreements/{partner}/{purpose}", agreement_save, methods=["POST"]
    ),
    Route(
        "/drafts/{draft_id:int}/agreements/{partner}/{purpose}/remove",
        agreement_remove,
        methods=["POST"],
    ),
]
