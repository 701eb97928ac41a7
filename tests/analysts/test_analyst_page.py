"""The analyst page in a real Chromium: credentials, a province's coverage report with its
charts, the report downloaded; an export started and downloaded; nothing fetched off-host."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analysts.test_export_stack import biggest_province
from tests.browser import Tab
from tests.policy_stack import PolicyStack

pytest.importorskip("playwright")
from playwright.async_api import expect


async def sign_in(tab: Tab, analyst: str, key: str) -> None:
    await tab.page.goto(analyst + "/")
    await tab.page.get_by_label("API key").fill(key)
    await tab.page.get_by_label("Purpose").fill("statistics")
    await tab.page.get_by_label("Your name").fill("analyst one")
    await tab.page.get_by_role("button", name="Use these credentials").click()
    await expect(tab.page.locator("#who")).to_contain_text("Using key tonle_")


async def test_an_analyst_runs_a_provinces_coverage_report_and_downloads_it(
    stack: PolicyStack, analyst: str, tab: Tab, tmp_path: Path
) -> None:
    province, _ = biggest_province(stack)
    await sign_in(tab, analyst, stack.key("nspc"))
    page = tab.page
    await page.get_by_label("Province").select_option(province)
    await expect(page.get_by_label("District (optional)")).to_contain_text(f"· {province}")
    await page.get_by_label("Period").fill("2026-10")
    await page.get_by_label("Break down by").select_option("district")
    await tab.screenshot("chosen")
    await page.get_by_role("button", name="Run the coverage report").click()
    await expect(page.locator("#coverage-status")).to_contain_text("Done", timeout=60_000)
    charts = page.locator("#coverage-charts img")
    await expect(charts.first).to_be_visible()
    assert await charts.count() >= 4
    await tab.screenshot("report")
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Download coverage.html").click()
    download = await waiting.value
    saved = tmp_path / "coverage.html"
    await download.save_as(saved)
    html = saved.read_text()
    assert "<svg" in html or "data:image/png;base64" in html
    assert "http://" not in html.replace("http://www.w3.org", "")  # self-contained
    assert not any(p.spid in html for p in stack.population.people)
    assert tab.problems() == []


async def test_an_analyst_exports_a_province_from_the_page(
    stack: PolicyStack, analyst: str, tab: Tab, tmp_path: Path
) -> None:
    province, spids = biggest_province(stack)
    await sign_in(tab, analyst, stack.key("nspc"))
    page = tab.page
    await page.get_by_label("Area code").fill(province)
    await page.get_by_label("Format").select_option("csv")
    await page.get_by_role("button", name="Start the export").click()
    await expect(page.locator("#export-status")).to_contain_text(
        f"Done: {len(spids)} people", timeout=60_000
    )
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Download export.csv").click()
    saved = tmp_path / "export.csv"
    await (await waiting.value).save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("spid,sex,birthDate") and len(lines) == len(spids) + 1
    await tab.screenshot("export")
    assert tab.problems() == []


async def test_without_credentials_the_page_says_to_give_them(analyst: str, tab: Tab) -> None:
    await tab.page.goto(analyst + "/")
    await tab.page.get_by_role("button", name="Start the export").click()
    await expect(tab.page.locator("#export-status")).to_contain_text(
        "Give your partner credentials"
    )
    assert tab.problems() == []
