"""Partners and keys in the console: a key shown once, partner text escaped, no reaching
another partner's key."""

from __future__ import annotations

import datetime as dt
import re

from policies.console.trail import entries
from policies.keys import hash_key
from policies.repository import list_partners
from tests.policies.console.conftest import ConsoleSite

SCRIPT = "<script>alert(1)</script>"
KEY = re.compile(r"tonle_[A-Za-z0-9]+_[A-Za-z0-9_-]+")


async def test_partner_supplied_text_is_shown_as_text(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    page = await erin.post(
        "/partners",
        {
            "code": "evil-ngo",
            "name": SCRIPT,
            "kind": "development_partner",
            "contact": '"><img src=x onerror=alert(2)>',
        },
    )
    assert page.status == 303
    for path in ("/partners", "/partners/evil-ngo"):
        shown = await erin.get(path)
        assert SCRIPT not in shown.text and "<img src=x" not in shown.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text
    trail = await site.signed_in("aud")
    shown = await trail.get("/trail")
    assert "<img src=x" not in shown.text and SCRIPT not in shown.text


async def test_a_key_is_shown_once_and_only_its_hash_is_kept(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    page = await erin.post("/partners/ngo-cash/keys", {"label": "pilot"})
    assert page.status == 200 and page.has("copy it now")
    assert page.headers["Cache-Control"] == "no-store"
    (key,) = KEY.findall(page.text)
    again = await erin.get("/partners/ngo-cash")
    assert key not in again.text and again.has("pilot")
    partner = next(p for p in await list_partners(site.sessions) if p.code == "ngo-cash")
    stored = next(k for k in partner.keys if k.label == "pilot")
    assert stored.key_hash == hash_key(key)
    (entry,) = await entries(site.sessions, action="key_issue")
    assert entry.details["key_id"] == stored.key_id and key not in str(entry)
    assert entry.username == "erin" and entry.client_address == "127.0.0.1"


async def test_rotation_shows_the_new_key_and_gives_the_old_ones_a_grace(site: ConsoleSite) -> None:
    ada = await site.signed_in("ada")
    page = await ada.post("/partners/nssf/keys/rotate", {"grace_days": "2"})
    assert page.status == 200 and len(KEY.findall(page.text)) == 1
    partner = next(p for p in await list_partners(site.sessions) if p.code == "nssf")
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    others = [k for k in partner.keys if k.expires_at is not None and k.expires_at < soon]
    assert others and all(k.revoked_at is None for k in others)


async def test_a_key_is_revoked_only_through_its_own_partner(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    partners = {p.code: p for p in await list_partners(site.sessions)}
    victim = next(k for k in partners["nssf"].keys if k.revoked_at is None)
    assert (await erin.get(f"/partners/ngo-cash/keys/{victim.key_id}/revoke")).status == 404
    page = await erin.post(f"/partners/ngo-cash/keys/{victim.key_id}/revoke")
    assert page.status == 404
    still = {k.key_id: k for p in await list_partners(site.sessions) for k in p.keys}
    assert still[victim.key_id].revoked_at is None
    confirm = await erin.get(f"/partners/nssf/keys/{victim.key_id}/revoke")
    assert confirm.has(f"Revoke key {victim.key_id} of nssf?")
    done = await erin.post(f"/partners/nssf/keys/{victim.key_id}/revoke")
    assert done.status == 303
    assert (await erin.get("/partners/nssf")).has(f"Key {victim.key_id} of nssf is revoked")
    after = {k.key_id: k for p in await list_partners(site.sessions) for k in p.keys}
    assert after[victim.key_id].revoked_at is not None


async def test_bad_partner_details_are_explained_and_nothing_is_made(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    page = await erin.post(
        "/partners", {"code": "Bad Code", "name": "x", "kind": "bank", "xroad_client": "NOPE"}
    )
    assert page.status == 400
    assert page.has("partner code 'Bad Code' must be")
    assert page.has("must be INSTANCE/CLASS/MEMBER/SUBSYSTEM")
    past = await erin.post("/partners/nssf/keys", {"expires_on": "2001-01-01"})
    assert past.status == 400 and past.has("the key's expiry is in the past")
    assert not KEY.findall(past.text)


async def test_an_auditor_reads_partners_but_cannot_issue_keys(site: ConsoleSite) -> None:
    aud = await site.signed_in("aud")
    page = await aud.get("/partners/nssf")
    assert page.status == 200 and "Issue key" not in page.text
    refused = await aud.post("/partners/nssf/keys", {})
    assert refused.status == 403 and not KEY.findall(refused.text)


async def test_a_partners_camdx_client_is_set_and_cleared(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    page = await erin.post(
        "/partners/ngo-cash/xroad-client", {"xroad_client": "CAMBODIA/GOV/MOSVY/CASH"}
    )
    assert page.status == 303
    assert (await erin.get("/partners/ngo-cash")).has(
        "now calls from CamDX client CAMBODIA/GOV/MOSVY/CASH"
    )
    taken = await erin.post(
        "/partners/idpoor/xroad-client", {"xroad_client": "CAMBODIA/GOV/MOSVY/CASH"}
    )
    assert taken.status == 400 and taken.has("another partner already calls from CamDX client")
    assert (await erin.post("/partners/ngo-cash/xroad-client", {"xroad_client": ""})).status == 303
    partners = {p.code: p for p in await list_partners(site.sessions)}
    assert partners["ngo-cash"].xroad_client is None and partners["idpoor"].xroad_client is None
    (entry, _) = await entries(site.sessions, action="partner_xroad_client")
    assert entry.details == {"from": "CAMBODIA/GOV/MOSVY/CASH", "to": None}
