"""Drafts and the four-eyes path (``/drafts``): start, submit, take back, withdraw, approve
and publish, reject. The agreement editor, Check, Preview and Impact pages of a draft
live under ``/drafts/{id}/...`` in their own modules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

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
from policies.repository import Sessions, list_partners, published, version_document

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


Decision = Callable[[Sessions, int, str], Awaitable[object]]


async def _decide(
    request: Request,
    tried: str,
    decide: Decision,
    action: str,
    done: str,
    *,
    draft: Draft | None = None,
    outcome_as: str | None = None,
    **details: object,
) -> Response:
    """Apply ``decide(sessions, draft id, admin)`` to the draft of the address; on success
    record ``action`` (with the outcome as detail ``outcome_as``) and come back to the
    draft saying ``done``; else say why not."""
    draft = draft or await _draft(request)
    try:
        outcome = await decide(console(request).sessions, draft.id, request.state.admin.username)
    except DraftError as error:
        return await _refused(request, draft, tried, error)
    if outcome_as is not None:
        details[outcome_as] = outcome
    return await _act(request, draft, action, done.format(draft=draft, outcome=outcome), **details)


async def _field(request: Request, name: str, limit: int) -> str:
    async with request.form() as form:
        return str(form.get(name) or "")[:limit]


@requires("editor")
async def draft_submit(request: Request) -> Response:
    reason = await _field(request, "reason", 2000)
    return await _decide(
        request,
        "submit",
        lambda sessions, draft_id, by: submit(sessions, draft_id, by=by, reason=reason),
        "draft_submit",
        "Draft {draft.id} is waiting for another admin's approval.",
        reason=reason.strip()[:500],
    )


@requires("editor")
async def draft_return(request: Request) -> Response:
    return await _decide(
        request,
        "return to editing",
        lambda sessions, draft_id, by: return_to_editing(sessions, draft_id, by=by),
        "draft_return",
        "Draft {draft.id} is back in editing.",
    )


@requires("editor", "approver")
async def draft_withdraw(request: Request) -> Response:
    return await _decide(
        request,
        "withdraw",
        lambda sessions, draft_id, by: withdraw(sessions, draft_id, by=by),
        "draft_withdraw",
        "Draft {draft.id} is withdrawn.",
    )


@requires("approver")
async def draft_approve(request: Request) -> Response:
    note = await _field(request, "note", 2000)
    draft = await _draft(request)
    errors, _ = await check_errors(request, draft)
    return await _decide(
        request,
        "approve",
        lambda sessions, draft_id, by: approve(
            sessions, draft_id, by=by, note=note, problems=errors
        ),
        "draft_approve",
        "Draft {draft.id} is published as version {outcome}: every running gateway enforces "
        "it within a few seconds.",
        draft=draft,
        outcome_as="version",
        author=draft.author,
        reason=draft.reason,
    )


@requires("approver")
async def draft_reject(request: Request) -> Response:
    note = await _field(request, "note", 2000)
    return await _decide(
        request,
        "reject",
        lambda sessions, draft_id, by: reject(sessions, draft_id, by=by, note=note),
        "draft_reject",
        "Draft {draft.id} is rejected.",
        note=note.strip(),
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
