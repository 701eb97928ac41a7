"""Drafts and the four-eyes path (``/drafts``): start, submit, take back, withdraw, approve
and publish, reject. The agreement editor, Check, Preview and Impact pages of a draft
live under ``/drafts/{id}/...`` in their own modules.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from policies.console.auth import requires
from policies.console.drafts_store import (
    OPEN,
    Draft,
    DraftError,
    NotTheAuthor,
    SelfApproval,
    StaleDraft,
    UnknownDraft,
    approve,
    list_drafts,
    load_draft,
    new_draft,
    reject,
    return_to_editing,
    submit,
    withdraw,
)
from policies.console.rendering import render
from policies.console.sessions import add_flash
from policies.console.state import console, url
from policies.console.trail import record
from policies.console.version_diff import diff_documents
from policies.errors import PolicyError
from policies.repository import list_partners, published, version_document

NAV = ("Drafts", "/drafts", 20)
STATUS_FILTERS = ("open", "all", "draft", "submitted", "published", "rejected", "withdrawn")


@requires()
async def draft_list(request: Request) -> Response:
    return await _list_page(request)


async def _list_page(request: Request, error: str | None = None, title: str = "") -> Response:
    shown = request.query_params.get("status", "open")
    if shown not in STATUS_FILTERS:
        shown = "open"
    statuses = OPEN if shown == "open" else () if shown == "all" else (shown,)
    sessions = console(request).sessions
    return render(
        request,
        "drafts.html",
        status=400 if error else 200,
        title="Drafts",
        drafts=await list_drafts(sessions, statuses=statuses),
        shown=shown,
        filters=STATUS_FILTERS,
        published=await published(sessions),
        error=error,
        new_title=title,
    )


@requires("editor")
async def draft_create(request: Request) -> Response:
    async with request.form() as form:
        title = str(form.get("title") or "").strip()
    try:
        draft_id = await new_draft(
            console(request).sessions,
            author=request.state.admin.username,
            title=title,
            base="published",
        )
    except PolicyError as error:
        return await _list_page(request, str(error), title)
    draft = await load_draft(console(request).sessions, draft_id)
    await record(
        request,
        "draft_create",
        f"draft {draft_id}",
        {"title": draft.title, "base": draft.base_version},
    )
    return RedirectResponse(url(request, f"/drafts/{draft_id}"), status_code=303)


async def _draft(request: Request) -> Draft:
    try:
        return await load_draft(console(request).sessions, int(request.path_params["draft_id"]))
    except UnknownDraft:
        raise HTTPException(404, "There is no such draft.") from None


async def check_errors(request: Request, draft: Draft) -> tuple[list[str], object | None]:
    """The errors that keep the draft from being published, and the whole Check report
    (None when the console has no supergraph to check against)."""
    from policies.console.warnings import check_draft

    state = console(request)
    schema = state.api_schema
    if schema is None:
        return [], None
    partners = {p.code: p.facts for p in await list_partners(state.sessions)}
    report = check_draft(draft.document, schema, partners)
    return [f.message for f in report.errors], report


async def _draft_page(
    request: Request, draft: Draft, *, error: str | None = None, status: int = 200
) -> Response:
    sessions = console(request).sessions
    current = await published(sessions)
    base = None
    if draft.base_version is not None:
        base = (await version_document(sessions, draft.base_version)).document
    errors, report = await check_errors(request, draft)
    admin = request.state.admin
    mine = draft.author == admin.username
    return render(
        request,
        "draft.html",
        status=status,
        title=f"Draft {draft.id}: {draft.title}",
        draft=draft,
        diff=diff_documents(base, draft.document) if base is not None else None,
        report=report,
        errors=errors,
        published=current,
        stale=draft.open and (current.number if current else None) != draft.base_version,
        mine=mine,
        can_edit=mine and draft.editable and admin.has("editor"),
        can_submit=mine and draft.status == "draft" and admin.has("editor"),
        can_decide=draft.status == "submitted" and admin.has("approver"),
        error=error,
    )


@requires()
async def draft_page(request: Request) -> Response:
    return await _draft_page(request, await _draft(request))


async def _act(
    request: Request, draft: Draft, action: str, done: str, **details: object
) -> Response:
    await record(request, action, f"draft {draft.id}", {"title": draft.title, **details})
    info = request.state.session
    await add_flash(console(request).sessions, info.id, done)
    return RedirectResponse(url(request, f"/drafts/{draft.id}"), status_code=303)


async def _refused(request: Request, draft: Draft, action: str, error: DraftError) -> Response:
    reasons = {SelfApproval: "own draft", NotTheAuthor: "not the author", StaleDraft: "stale"}
    reason = reasons.get(type(error), "state")
    await record(
        request,
        "refused",
        f"draft {draft.id}",
        {"tried": action, "reason": reason, "message": str(error)},
    )
    status = 403 if isinstance(error, (SelfApproval, NotTheAuthor)) else 409
    fresh = await load_draft(console(request).sessions, draft.id)
    return await _draft_page(request, fresh, error=str(error), status=status)


@requires("editor")
async def draft_submit(request: Request) -> Response:
    draft = await _draft(request)
    async with request.form() as form:
        reason = str(form.get("reason") or "")
    try:
        await submit(
            console(request).sessions, draft.id, by=request.state.admin.username, reason=reason
        )
    except DraftError as error:
        return await _refused(request, draft, "submit", error)
    return await _act(
        request,
        draft,
        "draft_submit",
        f"Draft {draft.id} is waiting for another admin's approval.",
        reason=reason.strip()[:500],
    )


@requires("editor")
async def draft_return(request: Request) -> Response:
    draft = await _draft(request)
    try:
        await return_to_editing(
            console(request).sessions, draft.id, by=request.state.admin.username
        )
    except DraftError as error:
        return await _refused(request, draft, "return to editing", error)
    return await _act(request, draft, "draft_return", f"Draft {draft.id} is back in editing.")


@requires("editor", "approver")
async def draft_withdraw(request: Request) -> Response:
    draft = await _draft(request)
    try:
        await withdraw(console(request).sessions, draft.id, by=request.state.admin.username)
    except DraftError as error:
        return await _refused(request, draft, "withdraw", error)
    return await _act(request, draft, "draft_withdraw", f"Draft {draft.id} is withdrawn.")


@requires("approver")
async def draft_approve(request: Request) -> Response:
    draft = await _draft(request)
    async with request.form() as form:
        note = str(form.get("note") or "")[:2000]
    errors, _ = await check_errors(request, draft)
    try:
        number = await approve(
            console(request).sessions,
            draft.id,
            by=request.state.admin.username,
            note=note,
            problems=errors,
        )
    except DraftError as error:
        return await _refused(request, draft, "approve", error)
    return await _act(
        request,
        draft,
        "draft_approve",
        f"Draft {draft.id} is published as version {number}: every running gateway enforces it "
        "within a few seconds.",
        version=number,
        author=draft.author,
        reason=draft.reason,
    )


@requires("approver")
async def draft_reject(request: Request) -> Response:
    draft = await _draft(request)
    async with request.form() as form:
        note = str(form.get("note") or "")[:2000]
    try:
        await reject(
            console(request).sessions, draft.id, by=request.state.admin.username, note=note
        )
    except DraftError as error:
        return await _refused(request, draft, "reject", error)
    return await _act(
        request, draft, "draft_reject", f"Draft {draft.id} is rejected.", note=note.strip()
    )


routes: list[BaseRoute] = [
    Route("/drafts", draft_list, methods=["GET"]),
    Route("/drafts", draft_create, methods=["POST"]),
    Route("/drafts/{draft_id:int}", draft_page, methods=["GET"]),
    Route("/drafts/{draft_id:int}/submit", draft_submit, methods=["POST"]),
    Route("/drafts/{draft_id:int}/return", draft_return, methods=["POST"]),
    Route("/drafts/{draft_id:int}/withdraw", draft_withdraw, methods=["POST"]),
    Route("/drafts/{draft_id:int}/approve", draft_approve, methods=["POST"]),
    Route("/drafts/{draft_id:int}/reject", draft_reject, methods=["POST"]),
]
