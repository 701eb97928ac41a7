"""Signing in and out; session fixation; idle and absolute expiry; cookie flags; next=."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from policies.console.accounts import disable
from policies.console.config import ConsoleConfig
from policies.console.models import AdminSession
from policies.console.sessions import PRE_SESSION_COOKIE, SESSION_COOKIE, token_hash
from policies.repository import Sessions
from tests.policies.console.conftest import ConsoleSite, serve_console


async def test_signing_in_opens_a_session_and_signing_out_ends_it(site: ConsoleSite) -> None:
    client = site.client()
    assert (await client.get("/")).location == "/admin/login"
    page = await client.sign_in("erin")
    assert page.location == "/admin/"
    token = client.cookies[SESSION_COOKIE]
    home = await client.get("/")
    assert home.status == 200 and home.has("Erin (erin: editor)")
    assert (await client.post("/logout")).location == "/admin/login"
    assert SESSION_COOKIE not in client.cookies
    # The old token names nothing now, even sent again by hand.
    client.cookies[SESSION_COOKIE] = token
    assert (await client.get("/")).location == "/admin/login"


async def test_a_token_planted_before_sign_in_is_not_the_session_after_it(
    site: ConsoleSite,
) -> None:
    victim = site.client()
    victim.cookies[SESSION_COOKIE] = "planted-by-an-attacker-" + "x" * 20
    await victim.sign_in("erin")
    assert victim.cookies[SESSION_COOKIE] != "planted-by-an-attacker-" + "x" * 20
    attacker = site.client()
    attacker.cookies[SESSION_COOKIE] = "planted-by-an-attacker-" + "x" * 20
    assert (await attacker.get("/")).location == "/admin/login"


async def test_a_real_session_planted_in_a_victims_browser_ends_when_the_victim_signs_in(
    site: ConsoleSite,
) -> None:
    attacker = await site.signed_in("eli")
    planted = attacker.cookies[SESSION_COOKIE]
    victim = site.client()
    victim.cookies[SESSION_COOKIE] = planted
    await victim.sign_in("erin")
    assert victim.cookies[SESSION_COOKIE] != planted
    # The attacker's copy of the token was ended by the victim's sign-in: no shared session.
    assert (await attacker.get("/")).location == "/admin/login"
    assert (await victim.get("/")).has("Erin (erin: editor)")


async def test_the_session_token_changes_at_every_sign_in(site: ConsoleSite) -> None:
    client = await site.signed_in("erin")
    first = client.cookies[SESSION_COOKIE]
    await client.sign_in("erin")
    assert client.cookies[SESSION_COOKIE] != first


async def _age(sessions: Sessions, token: str, **values: dt.datetime) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(AdminSession)
            .where(AdminSession.token_hash == token_hash(token))
            .values(**values)
        )


async def test_an_idle_session_ends(site: ConsoleSite) -> None:
    client = await site.signed_in("erin")
    token = client.cookies[SESSION_COOKIE]
    quiet = dt.datetime.now(dt.UTC) - site.config.session_idle - dt.timedelta(seconds=5)
    await _age(site.sessions, token, last_seen_at=quiet)
    page = await client.get("/partners")
    assert page.location == "/admin/login?next=/partners"
    assert SESSION_COOKIE not in client.cookies  # told to forget it
    # Ended for good: bringing it back later does not revive it.
    client.cookies[SESSION_COOKIE] = token
    await _age(site.sessions, token, last_seen_at=dt.datetime.now(dt.UTC))
    assert (await client.get("/")).location == "/admin/login"


async def test_activity_keeps_a_session_only_until_its_absolute_end(site: ConsoleSite) -> None:
    client = await site.signed_in("erin")
    token = client.cookies[SESSION_COOKIE]
    assert (await client.get("/")).status == 200  # busy: last seen now
    await _age(site.sessions, token, expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    assert (await client.get("/")).location == "/admin/login"


async def test_a_disabled_accounts_open_session_ends_at_once(site: ConsoleSite) -> None:
    client = await site.signed_in("erin")
    await disable(site.sessions, "erin")
    assert (await client.get("/")).location == "/admin/login"
    again = await client.sign_in("erin")
    assert again.status == 401


async def test_cookies_are_httponly_strict_and_scoped_to_the_console(site: ConsoleSite) -> None:
    client = site.client()
    first = await client.get("/login")
    (pre,) = first.cookies_set
    assert pre.startswith(PRE_SESSION_COOKIE + "=")
    signed = await client.post("/login", {"username": "erin", "password": "a long test password 1"})
    session_cookie = next(c for c in signed.cookies_set if c.startswith(SESSION_COOKIE + "="))
    for cookie in (pre, session_cookie):
        parts = [p.strip() for p in cookie.split(";")]
        assert "HttpOnly" in parts and "SameSite=Strict" in parts and "Path=/admin" in parts
        assert "Secure" not in parts  # plain HTTP here: a Secure cookie would never come back


async def test_cookies_are_secure_when_the_console_is_served_over_tls(
    console_config: ConsoleConfig, console_sessions: Sessions
) -> None:
    async with serve_console(console_config, console_sessions, secure_cookies=True) as site:
        client = site.client()
        page = await client.get("/login")
        assert all("; Secure" in c for c in page.cookies_set) and page.cookies_set
        signed = await client.post(
            "/login", {"username": "erin", "password": "a long test password 1"}
        )
        assert all("; Secure" in c for c in signed.cookies_set)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/%0d%0aSet-Cookie:x=y",
        "http:/evil.example",
    ],
)
async def test_next_never_leads_out_of_the_console(site: ConsoleSite, target: str) -> None:
    client = site.client()
    page = await client.sign_in("erin", next=target)
    assert page.location is not None
    assert page.location.startswith("/admin/"), page.location
    assert "evil" not in page.location or page.location.startswith("/admin/")
    assert "\r" not in page.location and "\n" not in page.location


async def test_next_brings_the_admin_back_where_they_were_going(site: ConsoleSite) -> None:
    client = site.client()
    bounce = await client.get("/drafts?status=all")
    assert bounce.location == "/admin/login?next=/drafts%3Fstatus%3Dall"
    login = await client.get(bounce.location.removeprefix("/admin"))
    assert 'name="next" value="/drafts?status=all"' in login.text
    page = await client.sign_in("erin", next="/drafts?status=all")
    assert page.location == "/admin/drafts?status=all"
