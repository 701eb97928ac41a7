"""Version history, readable differences, and rollback as a new, approved version."""

from __future__ import annotations

import re

from policies.console.drafts_store import load_draft
from policies.console.version_diff import diff_documents
from policies.repository import list_versions, published, version_document
from tests.policies.console.conftest import ConsoleSite
from tests.policies.console.drafting_helpers import publish_change


async def test_a_diff_names_the_agreement_the_field_and_both_rules(site: ConsoleSite) -> None:
    first = await published(site.sessions)
    assert first is not None
    second = await publish_change(site.sessions, "hidden")
    diff = diff_documents(first.document, (await version_document(site.sessions, second)).document)
    ((agreement),) = diff.agreements
    assert (agreement.partner, agreement.purpose, agreement.status) == (
        "ngo-cash",
        "eligibility_check",
        "changed",
    )
    ((change),) = agreement.changes
    assert (change.what, change.old, change.new) == ("Person.birthDate", "year", None)
    client = await site.signed_in("aud")
    page = await client.get(f"/versions/diff?from={first.number}&to={second}")
    assert page.has("Agreement ngo-cash / eligibility_check: changed")
    assert page.has("Person.birthDate year hidden")
    listing = await client.get("/versions")
    assert listing.has(f"{second} published") and listing.has("birth date hidden (draft")


async def test_rollback_is_a_draft_that_another_admin_approves(site: ConsoleSite) -> None:
    first = await published(site.sessions)
    assert first is not None
    changed = await publish_change(site.sessions, "hidden")
    root = await site.signed_in("root")
    page = await root.post(f"/versions/{first.number}/rollback", {"reason": "MoU was not signed"})
    assert page.status == 303
    draft_id = int(re.findall(r"\d+", page.location or "")[-1])
    draft = await load_draft(site.sessions, draft_id)
    assert (draft.kind, draft.rollback_of, draft.status, draft.base_version) == (
        "rollback",
        first.number,
        "submitted",
        changed,
    )
    assert (await published(site.sessions)).number == changed  # type: ignore[union-attr]
    assert (await root.post(f"/drafts/{draft_id}/approve")).status == 403  # its author
    ada = await site.signed_in("ada")
    assert (await ada.post(f"/drafts/{draft_id}/approve")).status == 303
    now = await published(site.sessions)
    assert now is not None and now.number == changed + 1
    assert now.document.digest() == first.document.digest()
    newest = (await list_versions(site.sessions))[0]
    assert newest.based_on == first.number and newest.created_by == "root"
    assert newest.reason.startswith(f"rollback to version {first.number}: MoU was not signed")


async def test_rolling_back_to_the_published_version_is_refused(site: ConsoleSite) -> None:
    current = await published(site.sessions)
    assert current is not None
    erin = await site.signed_in("erin")
    page = await erin.post(f"/versions/{current.number}/rollback", {"reason": "x"})
    assert page.status == 400 and page.has("is the published version already")
    assert (await erin.post("/versions/999/rollback", {"reason": "x"})).status == 404
    assert (await erin.get("/versions/999")).status == 404
    assert (await erin.get("/versions/diff?from=1&to=abc")).status == 404
