"""A real Chromium for browser tests: Debian's ``chromium``, driven by Playwright's Python API.

Loaded for every test by ``tests/conftest.py``. A test asks for ``tab`` (a fresh page in a
fresh browser context; see :class:`Tab`) or for ``browser`` (the Playwright ``Browser``) and
drives it with Playwright's async API::

    async def test_page_renders(tab: Tab) -> None:
        await tab.page.goto(url)
        await tab.screenshot("loaded")          # tests/artifacts/<test>-loaded.png
        assert tab.problems() == []             # no script errors, nothing fetched off-host

Playwright's own browser download (``playwright install``) is never used: the tests launch
``/usr/bin/chromium`` (or ``TONLE_CHROMIUM``). When it or the playwright package is missing,
browser tests skip and say how to get them; with ``CI=1`` or ``TONLE_REQUIRE_BROWSER=1`` they
fail instead. Screenshots go to ``tests/artifacts/`` (gitignored); a failing test leaves one of
the page as it was.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Browser, ConsoleMessage, Page

CHROMIUM = Path(os.environ.get("TONLE_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).parent / "artifacts"
# What works on these machines: no GPU, and none of Chromium's own calls home, which a closed
# network refuses. Playwright adds --headless, --no-sandbox and a fresh --user-data-dir.
FLAGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOW_TO_GET_IT = (
    "install Debian's Chromium as root (`apt-get install -y chromium chromium-driver`), "
    "then run `make test`"
)


def browser_required() -> bool:
    """Whether a missing browser fails the run (CI) rather than skipping its tests."""
    return os.environ.get("CI") == "1" or os.environ.get("TONLE_REQUIRE_BROWSER") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip the test for ``reason``, or fail it where browser tests must run."""
    if browser_required():
        pytest.fail(f"{reason} (browser tests must run here: CI=1 or TONLE_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def _missing() -> str | None:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM}: {HOW_TO_GET_IT}"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed: run `make test` (it installs .[dev])"
    return None


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, started for one test."""
    reason = _missing()
    if reason:
        skip_or_fail(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Tab:
    """One page in a fresh browser context, and what it did."""

    page: Page
    name: str
    errors: list[str] = field(default_factory=list)  # uncaught script errors, console errors
    urls: list[str] = field(default_factory=list)  # every http(s) URL the page asked for
    # GETs answered 4xx/5xx: a script, style or image that did not load. (A POST's 4xx is
    # an API's answer, such as GraphQL's 401 for a missing key, so it is not counted here.)
    failed_loads: list[str] = field(default_factory=list)

    async def screenshot(self, label: str) -> Path:
        """Save the page as ``tests/artifacts/<test>-<label>.png``; returns the path."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{label}.png"
        await self.page.screenshot(path=str(path))
        return path

    def off_host(self) -> list[str]:
        """URLs the page asked for on any host but 127.0.0.1 (a CDN, say)."""
        return [url for url in self.urls if urlsplit(url).hostname != "127.0.0.1"]

    def problems(self) -> list[str]:
        """Script errors, files that failed to load, off-host requests: a working page has none."""
        return (
            self.errors
            + self.failed_loads
            + [f"fetched off-host: {url}" for url in self.off_host()]
        )


@pytest.fixture
async def tab(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Tab]:
    """A fresh page (its own storage and cookies) 1400x900, recording errors and requests."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(10_000)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    (ARTIFACTS / f"{name}-failed.png").unlink(missing_ok=True)  # from an earlier run
    opened = Tab(page, name)
    page.on("pageerror", lambda error: opened.errors.append(f"page error: {error}"))
    page.on("console", lambda message: _console(opened, message))
    page.on(
        "request",
        lambda sent: opened.urls.append(sent.url) if sent.url.startswith("http") else None,
    )
    page.on(
        "response",
        lambda answer: (
            opened.failed_loads.append(f"HTTP {answer.status} for GET {answer.url}")
            if answer.status >= 400 and answer.request.method == "GET"
            else None
        ),
    )
    try:
        yield opened
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            await opened.screenshot("failed")
        await context.close()


def _console(tab: Tab, message: ConsoleMessage) -> None:
    # Chromium logs every 4xx/5xx as "Failed to load resource" without its URL; the response
    # hook records those that matter, with their URL.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        tab.errors.append(f"console: {message.text}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Lets `tab` see, at teardown, whether the test itself failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
