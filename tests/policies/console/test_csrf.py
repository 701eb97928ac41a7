"""Every form that changes something carries the session's CSRF token, or changes nothing."""

from __future__ import annotations

import pytest

from policies.repository import list_partners
from tests.policies.console.conftest import ConsoleSite

NEW_PARTNER = {"code": "forged", "name": "Forged partner", "kind": "ministry"}


async def _codes(site: ConsoleSite) -> set[str]:
    return {p.code for p in await list_partners(site.sessions)}


@pytest.mark.parametrize("token", [None, "", "wrong-token-" + "x" * 32])
async def test_a_form_without_the_right_token_is_refused_and_changes_nothing(
    site: ConsoleSite, token: str | None
) -> None:
    client = await site.signed_in("erin")
    form = dict(NEW_PARTNER)
    if token is not None:
        form["csrf_token"] = token
    page = await client.post("/partners", form, csrf=False)
    assert page.status == 403
    assert page.has("The form was refused: the form's security token is missing or stale")
    assert "forged" not in await _codes(site)
    # The same form with the session's token goes through.
    assert (await client.post("/partners", NEW_PARTNER)).status == 303
    assert "forged" in await _codes(site)


async def test_another_sessions_token_is_not_this_sessions(site: ConsoleSite) -> None:
    mallory = await site.signed_in("eli")
    victim = await site.signed_in("erin")
    assert mallory.csrf != victim.csrf
    page = await victim.post("/partners", {**NEW_PARTNER, "csrf_token": mallory.csrf or ""})
    assert page.status == 403 and "forged" not in await _codes(site)


async def test_the_pre_sign_in_token_does_not_serve_after_sign_in(site: ConsoleSite) -> None:
    client = site.client()
    await client.get("/login")
    before = client.csrf
    await client.sign_in("erin")
    assert client.csrf != before
    page = await client.post("/partners", {**NEW_PARTNER, "csrf_token": before or ""})
    assert page.status == 403


async def test_sign_in_itself_needs_the_token(site: ConsoleSite) -> None:
    client = site.client()
    await client.get("/login")
    page = await client.post(
        "/login", {"username": "erin", "password": "a long test password 1"}, csrf=False
    )
    assert page.status == 403 and "tonle_admin_session" not in client.cookies


async def test_sign_out_needs_the_token(site: ConsoleSite) -> None:
    client = await site.signed_in("erin")
    assert (await client.post("/logout", csrf=False)).status == 403
    assert (await client.get("/")).status == 200  # still signed in


async def test_a_post_from_another_site_is_refused_even_with_the_token(site: ConsoleSite) -> None:
    client = await site.signed_in("erin")
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        page = await client.post("/partners", NEW_PARTNER, headers=headers)
        assert page.status == 403 and page.has("it came from another site")
    assert "forged" not in await _codes(site)


async def test_the_token_may_come_as_a_header(site: ConsoleSite) -> None:
    client = await site.signed_in("erin")
    page = await client.post(
        "/partners", NEW_PARTNER, csrf=False, headers={"X-CSRF-Token": client.csrf or ""}
    )
    assert page.status == 303 and "forged" in await _codes(site)


async def test_a_multipart_form_is_checked_too(site: ConsoleSite) -> None:
    import aiohttp

    client = await site.signed_in("erin")
    form = aiohttp.FormData()
    for key, value in {**NEW_PARTNER, "csrf_token": "wrong" * 10}.items():
        form.add_field(key, value)
    page = await client.request("POST", "/partners", data=form)  # type: ignore[arg-type]
    assert page.status == 403 and "forged" not in await _codes(site)
    good = aiohttp.FormData()
    for key, value in {**NEW_PARTNER, "csrf_token": client.csrf or ""}.items():
        good.add_field(key, value)
    assert (await client.request("POST", "/partners", data=good)).status == 303  # type: ignore[arg-type]
