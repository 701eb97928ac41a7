"""Policy versions (``/versions``): history, one version's document, the differences between
any two, and rollback to any version — as a draft that another admin must approve."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from policies.console.auth import requires
from policies.console.drafts_store import DraftError, new_rollback_draft
from policies.console.rendering import render
from policies.console.state import console, url
from policies.console.trail import record
from policies.console.version_diff import diff_documents
from policies.repository import (
    StoredVersion,
    UnknownVersion,
    list_versions,
    published,
    version_document,
)

NAV = ("Versions", "/versions", 30)


async def _version(request: Request, number: object) -> StoredVersion:
    try:
        return await version_document(console(request).sessions, int(str(number)))
    except (UnknownVersion, ValueError):
        raise HTTPException(404, "There is no such policy version.") from None


@requires()
async def version_list(request: Request) -> Response:
    sessions = console(request).sessions
    versions = await list_versions(sessions)
    current = await published(sessions)
    return render(
        request,
        "versions.html",
        title="Versions",
        versions=versions,
        current=current.number if current else None,
    )


async def _version_page(request: Request, number: int, error: str | None = None) -> Response:
    sessions = console(request).sessions
    stored = await _version(request, number)
    record_ = next(v for v in await list_versions(sessions) if v.number == number)
    previous = None
    if number > 1:
        previous = await version_document(sessions, number - 1)
    current = await published(sessions)
    return render(
        request,
        "version.html",
        status=400 if error else 200,
        title=f"Version {number}",
        version=record_,
        text=stored.source or stored.document.to_yaml(),
        diff=diff_documents(previous.document, stored.document) if previous else None,
        previous=previous.number if previous else None,
        current=current.number if current else None,
        error=error,
    )


@requires()
async def version_page(request: Request) -> Response:
    return await _version_page(request, request.path_params["number"])


@requires()
async def version_diff(request: Request) -> Response:
    params = request.query_params
    old = await _version(request, params.get("from", ""))
    new = await _version(request, params.get("to", ""))
    return render(
        request,
        "version_diff.html",
        title=f"Version {old.number} → {new.number}",
        old=old.number,
        new=new.number,
        diff=diff_documents(old.document, new.document),
        versions=await list_versions(console(request).sessions),
    )


@requires("editor", "approver")
async def rollback(request: Request) -> Response:
    number = request.path_params["number"]
    await _version(request, number)
    async with request.form() as form:
        reason = str(form.get("reason") or "")[:400]
    try:
        draft_id = await new_rollback_draft(
            console(request).sessions,
            author=request.state.admin.username,
            number=number,
            reason=reason,
        )
    except DraftError as error:
        return await _version_page(request, number, str(error))
    await record(
        request,
        "rollback_propose",
        f"draft {draft_id}",
        {"to_version": number, "reason": reason.strip()},
    )
    return RedirectResponse(url(request, f"/drafts/{draft_id}"), status_code=303)


routes: list[BaseRoute] = [
    Route("/versions", version_list, methods=["GET"]),
    Route("/versions/diff", version_diff, methods=["GET"]),
    Route("/versions/{number:int}", version_page, methods=["GET"]),
    Route("/versions/{number:int}/rollback", rollback, methods=["POST"]),
]
