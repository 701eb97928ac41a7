"""The four-eyes path through the pages: draft, submit with a reason, approve as another
admin (a new published version), or reject; and what each role and each outsider cannot do."""

from __future__ import annotations

import re

from policies.console.drafts_store import load_draft, save_draft_document
from policies.console.trail import entries
from policies.repository import list_versions, published
from tests.policies.console.conftest import Client, ConsoleSite
from tests.policies.console.drafting_helpers import with_rule


async def _draft(site: ConsoleSite, client: Client, title: str = "ngo-cash: no birth year") -> int:
    page = await client.post("/drafts", {"title": title})
    assert page.status == 303, page.text
    found = re.fullmatch(r"/admin/drafts/(\d+)", page.location or "")
    assert found
    return int(found.group(1))


async def _change(site: ConsoleSite, draft_id: int, author: str) -> None:
    draft = await load_draft(site.sessions, draft_id)
    document = with_rule(
        draft.document, "ngo-cash", "eligibility_check", "Person", "birthDate", "hidden"
    )
    await save_draft_document(site.sessions, draft_id, document, by=author)


async def test_a_draft_is_published_by_a_second_admin_with_its_reason(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    before = await published(site.sessions)
    assert before is not None
    draft_id = await _draft(site, erin)
    await _change(site, draft_id, "erin")
    page = await erin.get(f"/drafts/{draft_id}")
    assert page.has("Agreement ngo-cash / eligibility_check: changed")
    assert page.has("Person.birthDate year hidden")
    assert page.has("No errors")
    submitted = await erin.post(f"/drafts/{draft_id}/submit", {"reason": "MoU amendment 3"})
    assert submitted.status == 303
    assert (await erin.get(f"/drafts/{draft_id}")).has("waiting for another admin's approval")

    ada = await site.signed_in("ada")
    assert (await ada.get("/")).has(f"#{draft_id} ngo-cash: no birth year")
    approved = await ada.post(f"/drafts/{draft_id}/approve", {"note": "checked with legal"})
    assert approved.status == 303
    now = await published(site.sessions)
    assert now is not None and now.number == before.number + 1
    agreement = now.document.agreement("ngo-cash", "eligibility_check")
    assert agreement is not None and agreement.rule("Person", "birthDate") == "hidden"
    version = (await list_versions(site.sessions))[0]
    assert version.created_by == "erin"
    assert version.reason.startswith("MoU amendment 3 (draft")
    assert "approved by ada" in version.reason
    draft = await load_draft(site.sessions, draft_id)
    assert (draft.status, draft.decided_by, draft.published_version) == (
        "published",
        "ada",
        now.number,
    )
    page = await ada.get(f"/drafts/{draft_id}")
    assert page.has(f"is published as version {now.number}")
    (decision,) = await entries(site.sessions, action="draft_approve")
    assert decision.details["version"] == now.number and decision.details["author"] == "erin"
    trail = [(e.username, e.action) for e in await entries(site.sessions)]
    for expected in (("erin", "draft_create"), ("erin", "draft_submit"), ("ada", "draft_approve")):
        assert expected in trail


async def test_the_author_cannot_approve_their_own_draft(site: ConsoleSite) -> None:
    root = await site.signed_in("root")  # editor and approver both
    draft_id = await _draft(site, root)
    await _change(site, draft_id, "root")
    await root.post(f"/drafts/{draft_id}/submit", {"reason": "tidy"})
    before = await published(site.sessions)
    page = await root.get(f"/drafts/{draft_id}")
    assert page.has("You wrote this draft: four eyes means another approver must approve it")
    refused = await root.post(f"/drafts/{draft_id}/approve")
    assert refused.status == 403
    assert refused.has("another approver must approve it (four eyes)")
    assert (await published(site.sessions)) == before
    (entry,) = [e for e in await entries(site.sessions, action="refused")]
    assert entry.username == "root" and entry.details["reason"] == "own draft"
    assert (await load_draft(site.sessions, draft_id)).status == "submitted"


async def test_an_editor_cannot_publish_and_an_auditor_cannot_edit(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    draft_id = await _draft(site, erin)
    await erin.post(f"/drafts/{draft_id}/submit", {"reason": "r"})
    eli = await site.signed_in("eli")
    page = await eli.post(f"/drafts/{draft_id}/approve")
    assert page.status == 403 and page.has("This needs the role approver")
    aud = await site.signed_in("aud")
    assert (await aud.post("/drafts", {"title": "auditor's draft"})).status == 403
    assert (await aud.post(f"/drafts/{draft_id}/reject", {"note": "no"})).status == 403
    assert (
        await aud.post("/partners", {"code": "x-y", "name": "X", "kind": "ministry"})
    ).status == 403
    # Reading is for everyone signed in.
    assert (await aud.get(f"/drafts/{draft_id}")).status == 200
    assert (await load_draft(site.sessions, draft_id)).status == "submitted"
    refusals = [
        (e.username, e.details.get("needs")) for e in await entries(site.sessions, action="refused")
    ]
    assert ("eli", ["approver"]) in refusals and ("aud", ["editor"]) in refusals


async def test_only_the_author_submits_withdraws_or_edits_a_draft(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    draft_id = await _draft(site, erin)
    eli = await site.signed_in("eli")
    # Another editor posting erin's draft number to the actions: refused, nothing moves.
    for action, form in (("submit", {"reason": "mine now"}), ("withdraw", {})):
        page = await eli.post(f"/drafts/{draft_id}/{action}", form)
        assert page.status == 403 and page.has("only its author does that")
    assert (await load_draft(site.sessions, draft_id)).status == "draft"


async def test_a_submitted_draft_can_be_rejected_with_a_note_and_is_then_closed(
    site: ConsoleSite,
) -> None:
    erin = await site.signed_in("erin")
    draft_id = await _draft(site, erin)
    await erin.post(f"/drafts/{draft_id}/submit", {"reason": "r"})
    ada = await site.signed_in("ada")
    assert (await ada.post(f"/drafts/{draft_id}/reject", {"note": "  "})).status == 409
    assert (await ada.post(f"/drafts/{draft_id}/reject", {"note": "not in the MoU"})).status == 303
    draft = await load_draft(site.sessions, draft_id)
    assert (draft.status, draft.decision_note) == ("rejected", "not in the MoU")
    again = await ada.post(f"/drafts/{draft_id}/approve")
    assert again.status == 409 and again.has("is rejected, not waiting for approval")


async def test_a_reason_is_required_to_submit(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    draft_id = await _draft(site, erin)
    page = await erin.post(f"/drafts/{draft_id}/submit", {"reason": "   "})
    assert page.status == 409 and page.has("give the reason for this change")
    assert (await load_draft(site.sessions, draft_id)).status == "draft"


async def test_a_draft_overtaken_by_another_publication_is_not_published(site: ConsoleSite) -> None:
    erin, eli = await site.signed_in("erin"), await site.signed_in("eli")
    first, second = await _draft(site, erin, "first"), await _draft(site, eli, "second")
    await _change(site, first, "erin")
    await erin.post(f"/drafts/{first}/submit", {"reason": "one"})
    await eli.post(f"/drafts/{second}/submit", {"reason": "two"})
    ada = await site.signed_in("ada")
    assert (await ada.post(f"/drafts/{first}/approve")).status == 303
    page = await ada.post(f"/drafts/{second}/approve")
    assert page.status == 409 and page.has("publishing it would undo that change")
    assert (await load_draft(site.sessions, second)).status == "submitted"


async def test_an_unknown_draft_is_a_404_and_not_an_error(site: ConsoleSite) -> None:
    ada = await site.signed_in("ada")
    assert (await ada.get("/drafts/99999")).status == 404
    assert (await ada.post("/drafts/99999/approve")).status == 404
    assert (await ada.get("/drafts/not-a-number")).status == 404


async def test_the_author_can_take_a_submitted_draft_back_and_edit_it(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    draft_id = await _draft(site, erin)
    await erin.post(f"/drafts/{draft_id}/submit", {"reason": "r"})
    assert (await erin.post(f"/drafts/{draft_id}/return")).status == 303
    await _change(site, draft_id, "erin")  # editable again
    assert (await load_draft(site.sessions, draft_id)).status == "draft"
