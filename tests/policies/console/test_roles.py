"""Roles take effect at once; pages carry the headers that keep them in their own frame."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import update

from policies.console.drafts_store import load_draft
from policies.console.models import AdminUser
from policies.repository import list_versions
from tests.policies.console.conftest import ConsoleSite


async def test_a_role_taken_away_is_gone_from_the_next_request(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    assert (await erin.post("/drafts", {"title": "one"})).status == 303
    async with site.sessions() as session, session.begin():
        await session.execute(
            update(AdminUser).where(AdminUser.username == "erin").values(roles=["auditor"])
        )
    page = await erin.post("/drafts", {"title": "two"})
    assert page.status == 403 and page.has("This needs the role editor")
    assert (await erin.get("/trail")).status == 200


async def test_two_approvers_at_once_publish_one_version(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    made = await erin.post("/drafts", {"title": "raced"})
    draft_id = int(re.findall(r"\d+", made.location or "")[-1])
    await erin.post(f"/drafts/{draft_id}/submit", {"reason": "race"})
    before = len(await list_versions(site.sessions))
    ada, abe = await site.signed_in("ada"), await site.signed_in("abe")
    pages = await asyncio.gather(
        ada.post(f"/drafts/{draft_id}/approve"), abe.post(f"/drafts/{draft_id}/approve")
    )
    assert sorted(p.status for p in pages) == [303, 409]
    assert len(await list_versions(site.sessions)) == before + 1
    assert (await load_draft(site.sessions, draft_id)).status == "published"


async def test_pages_are_never_framed_cached_or_sniffed(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    for path in ("/login", "/", "/partners", "/nowhere"):
        page = await erin.get(path)
        policy = page.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Cache-Control"] == "no-store"
    assert (await erin.get("/nowhere")).status == 404
