"""The agreement editor in a real Chromium: open a draft, mask a field for a partner, read the
Check, see the partner's schema change and run a query as it. Screenshots in tests/artifacts/."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.browser import Tab
from tests.policies.console.conftest import PASSWORD, ConsoleSite
from tests.policies.console.live_console import live_console, someone_the_ngo_sees
from tests.policy_stack import PolicyStack

PERSON = """query Check($s: String!) {
  person(spid: $s) { spid familyName khmerId birthDate }
}"""


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[PolicyStack, ConsoleSite]]:
    async with live_console(tmp_path) as running:
        yield running


async def test_mask_a_field_check_and_preview(
    tab: Tab, live: tuple[PolicyStack, ConsoleSite]
) -> None:
    stack, site = live
    person = someone_the_ngo_sees(stack)
    page = tab.page
    await page.goto(site.base + "/login")
    await page.get_by_label("Username").fill("erin")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(site.base + "/")

    # a draft from the published version
    await page.goto(site.base + "/drafts")
    await page.get_by_label("What will it change?").fill("ngo-cash sees family names as initials")
    await page.get_by_role("button", name="Start from the published version").click()
    await page.wait_for_url(f"{site.base}/drafts/*")
    draft_url = page.url
    await page.get_by_role("link", name="Edit agreements").click()
    await page.get_by_role("link", name="eligibility_check").first.click()
    await page.wait_for_url("**/agreements/ngo-cash/eligibility_check")
    await tab.screenshot("1-editor")

    # Person.familyName: masked to its initial, from the keyboard
    rule = page.get_by_label("Person.familyName", exact=True)
    await rule.scroll_into_view_if_needed()
    await rule.focus()
    await rule.select_option("initial")
    assert await rule.input_value() == "initial"
    await tab.screenshot("2-family-name-masked")
    # the scope picker: Phnom Penh chosen, named in English and Khmer, its districts inside
    phnom_penh = page.get_by_label("12 Phnom Penh (រាជធានីភ្នំពេញ)")
    assert await phnom_penh.is_checked()
    await page.locator("#scope").scroll_into_view_if_needed()
    await tab.screenshot("3-row-scope")
    await page.get_by_role("button", name="Save to draft").click()
    await page.wait_for_url("**/agreements/ngo-cash/eligibility_check")
    assert await page.get_by_text("Person.familyName: visible → initial").is_visible()
    await tab.screenshot("4-saved")

    # the Check
    await page.get_by_role("link", name="Check the draft").click()
    await page.get_by_role("heading", name="Check of draft").wait_for()
    assert await page.get_by_text("No errors.").is_visible()
    await tab.screenshot("5-check")

    # the preview: the schema's change, then a query as ngo-cash
    await page.goto(draft_url)
    await page.get_by_role("link", name="Preview as a partner").click()
    await page.get_by_role("combobox", name="Partner").select_option("ngo-cash")
    await page.get_by_role("combobox", name="Purpose").select_option("eligibility_check")
    await page.get_by_role("button", name="Show its schema").click()
    diff = page.locator("pre.diff")
    await diff.wait_for()
    assert "+   familyName: String!  # masked: initial" in await diff.inner_text()
    await tab.screenshot("6-preview-schema")
    await page.get_by_label("Query", exact=True).fill(PERSON)
    await page.get_by_label("Variables (JSON)").fill(json.dumps({"s": person.spid}))
    await page.get_by_role("button", name="Run as ngo-cash").click()
    answer = page.locator("#answer")
    await answer.wait_for()
    text = await answer.inner_text()
    assert f'"familyName": "{person.family_name[0]}."' in text
    assert f'"khmerId": "*****{person.khmer_id[-4:]}"' in text
    assert "Logged as access-log record" in text
    await answer.scroll_into_view_if_needed()
    await tab.screenshot("7-preview-answer")
    assert tab.problems() == []
