"""Every admin action lands in the trail: who, when, what, from where; only auditors read it."""

from __future__ import annotations

import datetime as dt

from policies.console.trail import entries
from tests.policies.console.conftest import ConsoleSite
from tests.policies.console.drafting_helpers import publish_change


async def test_every_change_is_in_the_trail_with_who_when_what_and_where(site: ConsoleSite) -> None:
    await publish_change(site.sessions, "hidden")  # so version 1 is not the published one
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    erin = await site.signed_in("erin")
    await erin.post("/partners", {"code": "new-ngo", "name": "New NGO", "kind": "ministry"})
    issued = await erin.post("/partners/new-ngo/keys", {"label": "first"})
    assert issued.status == 200
    await erin.post("/partners/new-ngo/keys/rotate", {"grace_days": "0"})
    keys = [e.details["key_id"] for e in await entries(site.sessions, action="key_issue")]
    await erin.post(f"/partners/new-ngo/keys/{keys[0]}/revoke")
    draft = await erin.post("/drafts", {"title": "t"})
    draft_path = (draft.location or "").removeprefix("/admin")
    await erin.post(draft_path + "/submit", {"reason": "because"})
    await erin.post(draft_path + "/return")
    await erin.post(draft_path + "/withdraw")
    await erin.post("/versions/1/rollback", {"reason": "test"})
    await erin.post("/logout")
    await site.client().sign_in("erin", "wrong password here")

    found = await entries(site.sessions)
    actions = [e.action for e in reversed(found)]
    assert actions == [
        "sign_in",
        "partner_create",
        "key_issue",
        "key_rotate",
        "key_revoke",
        "draft_create",
        "draft_submit",
        "draft_return",
        "draft_withdraw",
        "rollback_propose",
        "sign_out",
        "sign_in_failed",
    ]
    for entry in found:
        assert entry.username == "erin"
        assert started <= entry.at <= dt.datetime.now(dt.UTC)
        assert entry.client_address == "127.0.0.1"
        assert entry.user_agent and "Python" in entry.user_agent
        assert entry.target


async def test_only_auditors_read_the_trail_and_can_filter_it(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    assert (await erin.get("/trail")).status == 403
    assert "Admin trail" not in (await erin.get("/")).text  # not offered either
    aud = await site.signed_in("aud")
    assert "Admin trail" in (await aud.get("/")).text
    page = await aud.get("/trail?admin=erin&action=sign_in")
    assert page.status == 200 and page.has("erin sign_in erin")
    assert not page.has("aud sign_in")
    assert (await aud.get("/trail?admin=nobody")).has("Nothing matches")
    today = dt.date.today().isoformat()
    assert (await aud.get(f"/trail?since={today}&until={today}")).has("erin sign_in")
    assert (await aud.get("/trail?since=2001-01-01&until=2001-01-02")).has("Nothing matches")
