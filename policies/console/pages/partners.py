"""Partners and their API keys: list, create, issue, rotate, revoke (``/partners``).

A key is shown once, on the page that answers the action that made it, and nowhere else:
the database keeps its SHA-256, the trail its key id. Managing partners and keys is for
editors and approvers: a key reaches only what a published agreement grants, and
agreements change only through four eyes.
"""

from __future__ import annotations

import datetime as dt

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from policies.console.auth import requires
from policies.console.rendering import render
from policies.console.sessions import add_flash
from policies.console.state import console, url
from policies.console.trail import record
from policies.errors import PolicyError
from policies.models import PARTNER_KINDS
from policies.repository import (
    IssuedKey,
    KeyRecord,
    PartnerRecord,
    create_partner,
    issue_key,
    list_partners,
    published,
    revoke_key,
    rotate_key,
    set_xroad_client,
    utcnow,
)

NAV = ("Partners", "/partners", 10)
MANAGERS = ("editor", "approver")


async def _partner(request: Request, code: str) -> PartnerRecord:
    for partner in await list_partners(console(request).sessions):
        if partner.code == code:
            return partner
    raise HTTPException(404, f"There is no partner {code!r}.")


def _text(form: FormData, name: str, limit: int = 200) -> str | None:
    value = str(form.get(name) or "").strip()
    return value[:limit] or None


async def _list_page(
    request: Request, values: dict[str, str] | None = None, error: str | None = None
) -> Response:
    return render(
        request,
        "partners.html",
        status=400 if error else 200,
        title="Partners",
        partners=await list_partners(console(request).sessions),
        kinds=PARTNER_KINDS,
        now=utcnow(),
        values=values or {},
        error=error,
    )


@requires()
async def partner_list(request: Request) -> Response:
    return await _list_page(request)


@requires(*MANAGERS)
async def partner_create(request: Request) -> Response:
    names = ("code", "name", "kind", "contact", "operator", "xroad_client")
    async with request.form() as form:
        values = {k: str(form.get(k) or "").strip() for k in names}
    try:
        partner = await create_partner(
            console(request).sessions,
            values["code"],
            values["name"][:200],
            values["kind"],
            contact=values["contact"][:200] or None,
            operator=values["operator"] or None,
            xroad_client=values["xroad_client"] or None,
        )
    except PolicyError as error:
        return await _list_page(request, values, str(error))
    await record(
        request,
        "partner_create",
        f"partner {partner.code}",
        {"kind": partner.kind, "operator": partner.operator, "xroad_client": partner.xroad_client},
    )
    await _flash(request, f"Partner {partner.code} created. Issue it a key below.")
    return RedirectResponse(url(request, f"/partners/{partner.code}"), status_code=303)


async def _partner_page(
    request: Request,
    code: str,
    *,
    issued: IssuedKey | None = None,
    error: str | None = None,
) -> Response:
    partner = await _partner(request, code)
    current = await published(console(request).sessions)
    return render(
        request,
        "partner.html",
        status=400 if error else 200,
        title=f"Partner {partner.code}" + (": new key" if issued else ""),
        partner=partner,
        agreements=[a for a in current.document.agreements if a.partner == code] if current else [],
        version=current.number if current else None,
        now=utcnow(),
        issued=issued,
        error=error,
    )


@requires()
async def partner_page(request: Request) -> Response:
    return await _partner_page(request, request.path_params["code"])


def _expiry(form: FormData) -> dt.datetime | None:
    raw = _text(form, "expires_on", 10)
    if raw is None:
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise PolicyError(f"the expiry {raw!r} is not a date (YYYY-MM-DD)") from None
    return dt.datetime.combine(day, dt.time(), dt.UTC)


@requires(*MANAGERS)
async def key_issue(request: Request) -> Response:
    partner = await _partner(request, request.path_params["code"])
    async with request.form() as form:
        label = _text(form, "label", 100)
        try:
            expires = _expiry(form)
            issued = await issue_key(
                console(request).sessions, partner.code, expires_at=expires, label=label
            )
        except PolicyError as error:
            return await _partner_page(request, partner.code, error=str(error))
    await record(
        request,
        "key_issue",
        f"partner {partner.code}",
        {"key_id": issued.key_id, "label": label, "expires_at": _iso(issued.expires_at)},
    )
    return await _partner_page(request, partner.code, issued=issued)


@requires(*MANAGERS)
async def key_rotate(request: Request) -> Response:
    partner = await _partner(request, request.path_params["code"])
    async with request.form() as form:
        label = _text(form, "label", 100)
        raw_grace = _text(form, "grace_days", 4) or "7"
        try:
            grace = int(raw_grace)
            if not 0 <= grace <= 90:
                raise ValueError
        except ValueError:
            return await _partner_page(
                request, partner.code, error="the grace period is 0 to 90 days"
            )
        try:
            expires = _expiry(form)
            issued = await rotate_key(
                console(request).sessions,
                partner.code,
                grace=dt.timedelta(days=grace),
                expires_at=expires,
                label=label,
            )
        except PolicyError as error:
            return await _partner_page(request, partner.code, error=str(error))
    await record(
        request,
        "key_rotate",
        f"partner {partner.code}",
        {"key_id": issued.key_id, "label": label, "grace_days": grace},
    )
    return await _partner_page(request, partner.code, issued=issued)


@requires(*MANAGERS)
async def xroad_client(request: Request) -> Response:
    partner = await _partner(request, request.path_params["code"])
    async with request.form() as form:
        value = _text(form, "xroad_client")
    try:
        await set_xroad_client(console(request).sessions, partner.code, value)
    except PolicyError as error:
        return await _partner_page(request, partner.code, error=str(error))
    await record(
        request,
        "partner_xroad_client",
        f"partner {partner.code}",
        {"from": partner.xroad_client, "to": value},
    )
    await _flash(
        request,
        f"{partner.code} now calls from CamDX client {value}."
        if value
        else f"{partner.code} no longer calls through CamDX.",
    )
    return RedirectResponse(url(request, f"/partners/{partner.code}"), status_code=303)


async def _own_key(request: Request) -> tuple[PartnerRecord, KeyRecord]:
    partner = await _partner(request, request.path_params["code"])
    key_id = request.path_params["key_id"]
    # Only a key of the partner in the address: a form cannot reach another partner's key.
    for key in partner.keys:
        if key.key_id == key_id:
            return partner, key
    raise HTTPException(404, f"Partner {partner.code} has no key {key_id!r}.")


@requires(*MANAGERS)
async def key_revoke_page(request: Request) -> Response:
    partner, key = await _own_key(request)
    return render(
        request, "revoke.html", title=f"Revoke key {key.key_id}", partner=partner, key=key
    )


@requires(*MANAGERS)
async def key_revoke(request: Request) -> Response:
    partner, key = await _own_key(request)
    key_id = key.key_id
    await revoke_key(console(request).sessions, key_id)
    await record(request, "key_revoke", f"partner {partner.code}", {"key_id": key_id})
    await _flash(request, f"Key {key_id} of {partner.code} is revoked: it stopped working now.")
    return RedirectResponse(url(request, f"/partners/{partner.code}"), status_code=303)


async def _flash(request: Request, message: str) -> None:
    info = request.state.session
    await add_flash(console(request).sessions, info.id, message)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


routes: list[BaseRoute] = [
    Route("/partners", partner_list, methods=["GET"]),
    Route("/partners", partner_create, methods=["POST"]),
    Route("/partners/{code}", partner_page, methods=["GET"]),
    Route("/partners/{code}/xroad-client", xroad_client, methods=["POST"]),
    Route("/partners/{code}/keys", key_issue, methods=["POST"]),
    Route("/partners/{code}/keys/rotate", key_rotate, methods=["POST"]),
    Route("/partners/{code}/keys/{key_id}/revoke", key_revoke_page, methods=["GET"]),
    Route("/partners/{code}/keys/{key_id}/revoke", key_revoke, methods=["POST"]),
]
