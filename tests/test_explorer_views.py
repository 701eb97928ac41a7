"""The explorer with a partner's key shows that partner's view, and nothing else, in a real
Chromium against the whole policy stack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from gateway.explorer import Explorer
from tests.browser import Tab, skip_or_fail
from tests.policy_stack import PolicyStack, policy_stack


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[PolicyStack]:
    if not Explorer().installed:
        skip_or_fail(
            "GraphiQL is not installed in gateway/graphiql/node_modules: run `make test` "
            "(it runs `npm ci` there; needs Node.js and npm)"
        )
    registry = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with policy_stack(registry, tmp_path, people=60) as running:
        yield running


async def person_docs(tab: Tab, stack: PolicyStack, partner: str, purpose: str) -> str:
    page = tab.page
    await page.goto(stack.gateway + "/graphql")
    await page.get_by_label("API key").fill(stack.key(partner))
    await page.get_by_label("Purpose").fill(purpose)
    await page.get_by_role("button", name="Show Documentation Explorer").click()
    docs = page.locator(".graphiql-doc-explorer")
    await expect(docs).to_contain_text("Root Types")
    await docs.get_by_role("link", name="Query").click()
    await docs.get_by_role("link", name="Person", exact=True).first.click()
    await expect(docs).to_contain_text("spid")
    await tab.screenshot(f"{partner}-person")
    return await docs.inner_text()


async def test_the_docs_pane_shows_the_ngo_only_its_view(stack: PolicyStack, tab: Tab) -> None:
    ngo = await person_docs(tab, stack, "ngo-cash", "eligibility_check")
    assert "khmerId" in ngo and "idpoor" in ngo
    for hidden in ("nssf", "phone", "history", "pcaPayments", "programLinks"):
        assert hidden not in ngo, hidden
    assert tab.problems() == []


async def test_the_docs_pane_shows_registry_staff_theirs(stack: PolicyStack, tab: Tab) -> None:
    staff = await person_docs(tab, stack, "registry", "grievance")
    for field in ("nssf", "phone", "history", "pcaPayments"):
        assert field in staff, field
    assert tab.problems() == []
