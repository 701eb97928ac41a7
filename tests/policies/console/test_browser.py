"""The console in a real Chromium: sign in from the keyboard, partners, issue a key (shown
once), sign out. Screenshots in tests/artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser import Tab
from tests.policies.console.conftest import PASSWORD, ConsoleSite

pytest.importorskip("playwright")
from playwright.async_api import expect

KEY = re.compile(r"^tonle_[A-Za-z0-9]+_[A-Za-z0-9_-]+$")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    # One backend is enough for what a browser adds; the pages' logic runs on both elsewhere.
    # (Overrides the conftest's, for this module's `site`.)
    return f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"


async def test_sign_in_issue_a_key_and_sign_out(tab: Tab, site: ConsoleSite) -> None:
    page = tab.page
    await page.goto(site.base + "/partners")
    assert page.url == site.base + "/login?next=/partners"
    # From the keyboard: the username field has the focus (once the page has given it: typing
    # before that lost the first letter), Tab to the password, Enter.
    await expect(page.get_by_label("Username")).to_be_focused()
    await page.keyboard.type("erin")
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await tab.screenshot("1-sign-in")
    await page.keyboard.press("Enter")
    await page.wait_for_url(site.base + "/partners")
    assert await page.get_by_role("heading", name="Partners").is_visible()
    await tab.screenshot("2-partners")

    await page.get_by_role("link", name="ngo-cash").click()
    await page.wait_for_url(site.base + "/partners/ngo-cash")
    await page.get_by_label("Label (optional)").first.fill("browser test")
    await page.get_by_role("button", name="Issue key").click()
    shown = page.locator("#new-key")
    await shown.wait_for()
    key = (await shown.inner_text()).strip()
    assert KEY.match(key), key
    await tab.screenshot("3-key-shown-once")

    await page.goto(site.base + "/partners/ngo-cash")
    assert key not in await page.content()
    assert await page.get_by_role("cell", name="browser test").is_visible()
    await tab.screenshot("4-key-listed-without-secret")

    await page.get_by_role("link", name="Revoke key").last.click()
    await page.get_by_role("button", name="Revoke key").click()
    await page.wait_for_url(site.base + "/partners/ngo-cash")
    assert await page.get_by_text("stopped working now").is_visible()
    await tab.screenshot("5-key-revoked")

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(site.base + "/login")
    await tab.screenshot("6-signed-out")
    await page.goto(site.base + "/partners")
    assert page.url.startswith(site.base + "/login")
    assert tab.problems() == []
