"""A policy admin's whole journey in a real Chromium, over a whole running Tonle: sign in, mask a
field for a partner, read the Check and the preview, submit; fail to approve one's own draft;
a second admin approves; the running gateway enforces the change; roll back (approved by
another admin again) and the gateway follows; the auditor finds the preview in the access log.
Screenshots: tests/artifacts/test_a_policy_admins_whole_journey-*.png."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.browser import Tab
from tests.policies.console.conftest import PASSWORD, ConsoleSite
from tests.policies.console.live_console import live_console, someone_the_ngo_sees
from tests.policy_stack import PolicyStack

pytest.importorskip("playwright")
from playwright.async_api import Page, expect

PERSON = "query Seen($s: String!) { person(spid: $s) { spid familyName } }"


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[PolicyStack, ConsoleSite]]:
    async with live_console(tmp_path) as running:
        yield running


async def sign_in(page: Page, site: ConsoleSite, username: str) -> None:
    await page.goto(site.base + "/login")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(site.base + "/")


async def sign_out(page: Page) -> None:
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/login*")


async def family_name_seen(stack: PolicyStack, spid: str) -> str:
    reply = await stack.ask("ngo-cash", PERSON, {"s": spid}, purpose="eligibility_check")
    assert reply.status == 200, reply.body
    return str(reply.data["person"]["familyName"])


async def until_gateway_shows(stack: PolicyStack, spid: str, expected: str) -> float:
    """Seconds until the running gateway answers ``expected``; fails after 5 s."""
    started = time.monotonic()
    while (seen := await family_name_seen(stack, spid)) != expected:
        assert time.monotonic() - started < 5.0, f"the gateway still answers {seen!r} after 5 s"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def test_a_policy_admins_whole_journey(
    tab: Tab, live: tuple[PolicyStack, ConsoleSite]
) -> None:
    stack, site = live
    person = someone_the_ngo_sees(stack)
    page = tab.page
    assert await family_name_seen(stack, person.spid) == person.family_name

    # root (editor and approver) drafts: ngo-cash sees family names as their initial
    await sign_in(page, site, "root")
    await tab.screenshot("01-signed-in")
    await page.goto(site.base + "/drafts")
    await page.get_by_label("What will it change?").fill("ngo-cash: family names as initials")
    await page.get_by_role("button", name="Start from the published version").click()
    await page.wait_for_url(re.compile(r".*/drafts/\d+$"))
    draft_url = page.url
    await page.get_by_role("link", name="Edit agreements").click()
    await page.get_by_role("link", name="eligibility_check").first.click()
    rule = page.get_by_label("Person.familyName", exact=True)
    await rule.scroll_into_view_if_needed()
    await rule.select_option("initial")
    await tab.screenshot("02-mask-family-name")
    await page.get_by_role("button", name="Save to draft").click()
    await expect(page.get_by_text("Person.familyName: visible → initial")).to_be_visible()

    # the Check, then the preview as ngo-cash (logged as an access by root)
    await page.get_by_role("link", name="Check the draft").click()
    await expect(page.get_by_text("No errors.")).to_be_visible()
    await tab.screenshot("03-check")
    await page.goto(draft_url)
    await page.get_by_role("link", name="Preview as a partner").click()
    await page.get_by_role("combobox", name="Partner").select_option("ngo-cash")
    await page.get_by_role("combobox", name="Purpose").select_option("eligibility_check")
    await page.get_by_role("button", name="Show its schema").click()
    await expect(page.locator("pre.diff")).to_contain_text("# masked: initial")
    await page.get_by_label("Query", exact=True).fill(PERSON)
    await page.get_by_label("Variables (JSON)").fill(json.dumps({"s": person.spid}))
    await page.get_by_role("button", name="Run as ngo-cash").click()
    answer = page.locator("#answer")
    await expect(answer).to_contain_text(f'"familyName": "{person.family_name[0]}."')
    await tab.screenshot("04-preview")
    # the published policy is untouched by a draft and its preview
    assert await family_name_seen(stack, person.spid) == person.family_name

    # submit, then fail to approve one's own draft
    await page.goto(draft_url)
    await page.get_by_label("Reason for the change").fill("the NGO needs no full family names")
    await page.get_by_role("button", name="Submit", exact=True).click()
    await expect(page.locator("h1")).to_contain_text("submitted")
    await page.get_by_role("button", name="Approve and publish").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "you wrote draft 1: another approver must approve it"
    )
    await tab.screenshot("05-own-approval-refused")
    assert await family_name_seen(stack, person.spid) == person.family_name
    await sign_out(page)

    # ada approves; the running gateway enforces it within 5 s, without a restart
    await sign_in(page, site, "ada")
    await page.goto(draft_url)
    await page.get_by_role("button", name="Approve and publish").click()
    await expect(page.locator("h1")).to_contain_text("published")
    await tab.screenshot("06-approved")
    await until_gateway_shows(stack, person.spid, person.family_name[0] + ".")

    # ada proposes the rollback to the version before; abe approves it; the gateway follows
    await page.goto(site.base + "/versions")
    await tab.screenshot("07-versions")
    numbers = sorted(int(n) for n in re.findall(r"/versions/(\d+)\"", await page.content()))
    assert len(numbers) >= 2
    await page.goto(f"{site.base}/versions/{numbers[-2]}")
    await page.get_by_label("Reason").fill("back to full names while the MoU is reviewed")
    await page.get_by_role("button", name="Propose the rollback").click()
    await page.wait_for_url(re.compile(r".*/drafts/\d+$"))
    rollback_url = page.url
    await expect(page.locator("h1")).to_contain_text("submitted")  # its reason was given
    await sign_out(page)
    await sign_in(page, site, "abe")
    await page.goto(rollback_url)
    await page.get_by_role("button", name="Approve and publish").click()
    await expect(page.locator("h1")).to_contain_text("published")
    await tab.screenshot("08-rolled-back")
    await until_gateway_shows(stack, person.spid, person.family_name)
    await sign_out(page)

    # the auditor finds root's preview in the access log, under root's name
    await sign_in(page, site, "aud")
    await page.goto(site.base + "/access-log")
    await page.get_by_label("SPID or household ID").fill(person.spid)
    await page.get_by_role("button", name="Search").click()
    results = page.locator("main")
    await expect(results).to_contain_text("admin:root")
    await tab.screenshot("09-access-log")
    assert tab.problems() == []
