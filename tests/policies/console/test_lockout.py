"""Lock-out after repeated failed sign-ins; the form says nothing about which accounts exist."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import update

from policies.console.accounts import unlock
from policies.console.models import AdminUser
from policies.console.trail import entries
from tests.policies.console.conftest import PASSWORD, ConsoleSite

WRONG = "not the password at all"


async def test_five_failures_lock_the_account_even_against_the_right_password(
    site: ConsoleSite,
) -> None:
    client = site.client()
    for _ in range(site.config.lockout_failures):
        assert (await client.sign_in("erin", WRONG)).status == 401
    locked = await client.sign_in("erin", PASSWORD)
    assert locked.status == 401 and "tonle_admin_session" not in client.cookies
    actions = [e.action for e in await entries(site.sessions, username="erin")]
    assert actions.count("sign_in_failed") == site.config.lockout_failures + 1
    assert actions.count("locked_out") == 1
    # An administrator unlocks it (tonle admin unlock): the right password works again.
    await unlock(site.sessions, "erin")
    assert (await client.sign_in("erin", PASSWORD)).status == 303


async def test_a_lock_ends_by_itself_after_its_period(site: ConsoleSite) -> None:
    client = site.client()
    for _ in range(site.config.lockout_failures):
        await client.sign_in("erin", WRONG)
    assert (await client.sign_in("erin", PASSWORD)).status == 401
    async with site.sessions() as session, session.begin():
        await session.execute(
            update(AdminUser)
            .where(AdminUser.username == "erin")
            .values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert (await client.sign_in("erin", PASSWORD)).status == 303


async def test_failures_spread_beyond_the_window_do_not_lock(site: ConsoleSite) -> None:
    client = site.client()
    for _ in range(site.config.lockout_failures - 1):
        await client.sign_in("erin", WRONG)
    async with site.sessions() as session, session.begin():
        await session.execute(
            update(AdminUser)
            .where(AdminUser.username == "erin")
            .values(failed_since=dt.datetime.now(dt.UTC) - site.config.lockout_window * 2)
        )
    await client.sign_in("erin", WRONG)  # the first of a new window
    assert (await client.sign_in("erin", PASSWORD)).status == 303


async def test_a_success_forgets_earlier_failures(site: ConsoleSite) -> None:
    client = site.client()
    for _ in range(site.config.lockout_failures - 1):
        await client.sign_in("erin", WRONG)
    assert (await client.sign_in("erin", PASSWORD)).status == 303
    for _ in range(site.config.lockout_failures - 1):
        await client.sign_in("erin", WRONG)
    assert (await client.sign_in("erin", PASSWORD)).status == 303


async def test_the_answer_is_the_same_for_unknown_locked_and_wrong(site: ConsoleSite) -> None:
    client = site.client()
    unknown = await client.sign_in("nobody-here", WRONG)
    wrong = await client.sign_in("erin", WRONG)
    for _ in range(site.config.lockout_failures):
        await client.sign_in("ada", WRONG)
    locked = await client.sign_in("ada", PASSWORD)
    pages = set()
    for page, name in ((unknown, "nobody-here"), (wrong, "erin"), (locked, "ada")):
        assert page.status == 401
        pages.add(re.sub(r'value="[^"]*"', "", page.text).replace(name, "NAME"))
    assert len(pages) == 1


async def test_an_unknown_name_is_not_written_to_the_trail(site: ConsoleSite) -> None:
    # Someone typing their password into the username box must not find it in the trail.
    await site.client().sign_in("my-secret-passphrase", WRONG)
    (entry,) = [e for e in await entries(site.sessions) if e.action == "sign_in_failed"]
    assert entry.username == "(unknown account)" and entry.target == "(unknown account)"
    assert "my-secret-passphrase" not in str(entry)


async def test_a_huge_password_is_a_failure_not_a_megabyte_of_hashing(site: ConsoleSite) -> None:
    page = await site.client().sign_in("erin", PASSWORD + "x" * 1_000_000)
    assert page.status == 401
    (entry,) = await entries(site.sessions, action="sign_in_failed")
    assert entry.details == {"outcome": "wrong_password"}
