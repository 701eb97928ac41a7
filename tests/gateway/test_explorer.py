"""The explorer pages of ``GET /graphql``: GraphiQL served from the installed npm packages,
calling as one partner for one purpose, and the plain page it falls back to.

The browser tests drive Debian's Chromium against a real gateway over the classic subgraphs;
see ``tests/browser.py`` for when they skip. Screenshots land in ``tests/artifacts/``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, Request, expect

import gateway.explorer
from gateway.explorer import Explorer
from tests.browser import Tab, skip_or_fail
from tests.gateway.classic import SUBGRAPHS, supergraph_sdl
from tests.gateway.conftest import Stack, start_stack

KEY = "partner-key-7f3a"
PURPOSE = "eligibility_check"
END_USER = "officer-42"


async def _stack(exits: AsyncExitStack) -> Stack:
    return await start_stack(
        SUBGRAPHS,
        supergraph_sdl,
        stack=exits,
        gateway_kwargs={"open_mode": False, "partner_keys": {KEY: "nssf"}},
    )


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with AsyncExitStack() as exits:
        yield await _stack(exits)


@pytest.fixture
def graphiql() -> None:
    """GraphiQL must be installed (``make test`` runs ``npm ci`` in ``gateway/graphiql``)."""
    if not Explorer().installed:
        skip_or_fail(
            "GraphiQL is not installed in gateway/graphiql/node_modules: run `make test` "
            "(it runs `npm ci` there; needs Node.js and npm)"
        )


async def _get(
    stack: Stack, path: str, accept: str = "text/html"
) -> tuple[int, dict[str, str], str]:
    async with stack.session.get(stack.gateway_url + path, headers={"Accept": accept}) as response:
        headers = {name.lower(): value for name, value in response.headers.items()}
        return response.status, headers, await response.text()


# -- served pages and files ----------------------------------------------------------------


async def test_graphiql_page_loads_only_files_the_gateway_serves(
    graphiql: None, stack: Stack
) -> None:
    status, headers, page = await _get(stack, "/graphql")
    assert status == 200
    assert "<title>Tonle GraphQL explorer</title>" in page
    assert 'src="explorer/graphiql.min.js"' in page
    assert "https://" not in page and "http://" not in page
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "connect-src 'self'" in headers["content-security-policy"]
    for name, kind in [
        ("graphiql.min.js", "javascript"),
        ("graphiql.min.css", "text/css"),
        ("react.production.min.js", "javascript"),
        ("react-dom.production.min.js", "javascript"),
        ("tonle-explorer.js", "javascript"),
        ("tonle-explorer.css", "text/css"),
    ]:
        status, headers, _ = await _get(stack, f"/explorer/{name}", accept="*/*")
        assert status == 200, name
        assert kind in headers["content-type"], name


async def test_only_the_named_explorer_files_are_served(graphiql: None, stack: Stack) -> None:
    for path in [
        "/explorer/package.json",
        "/explorer/index.html",
        "/explorer/graphiql.js.map",
        "/explorer/..%2Fpackage.json",
        "/explorer/node_modules%2Freact%2Fpackage.json",
    ]:
        status, _, _ = await _get(stack, path, accept="*/*")
        assert status == 404, path


async def test_plain_query_parameter_serves_the_plain_page(stack: Stack) -> None:
    status, _, page = await _get(stack, "/graphql?plain=1")
    assert status == 200
    assert '<nav id="schema">' in page
    assert "graphiql" not in page.lower()


async def test_without_graphiql_installed_the_plain_page_is_served(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # What a machine without npm has: the page files, no node_modules.
    monkeypatch.setattr(gateway.explorer, "GRAPHIQL_HOME", tmp_path)
    async with AsyncExitStack() as exits:
        stack = await _stack(exits)
        status, _, page = await _get(stack, "/graphql")
        assert status == 200
        assert '<nav id="schema">' in page
        status, _, _ = await _get(stack, "/explorer/graphiql.min.js", accept="*/*")
        assert status == 404


# -- GraphiQL in a browser -------------------------------------------------------------------


def _graphql_posts(page: Page) -> list[Request]:
    posts: list[Request] = []
    page.on(
        "request",
        lambda sent: (
            posts.append(sent) if sent.method == "POST" and sent.url.endswith("/graphql") else None
        ),
    )
    return posts


async def _open_graphiql(tab: Tab, stack: Stack, *, key: str = KEY) -> None:
    await tab.page.goto(stack.gateway_url + "/graphql")
    await tab.page.get_by_label("API key").fill(key)
    await tab.page.get_by_label("Purpose").fill(PURPOSE)
    await tab.page.get_by_label("End user").fill(END_USER)
    await expect(tab.page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible()


async def _set_query(page: Page, query: str) -> None:
    # CodeMirror's own API: typing would have its bracket auto-closing add braces.
    await page.evaluate(
        "(q) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(q)",
        query,
    )
    # GraphiQL takes an edit into its tab state (which its history records) a moment later.
    await page.wait_for_function(
        "(q) => (sessionStorage.getItem('graphiql:tabState') || '').includes(JSON.stringify(q).slice(1, -1))",
        arg=query,
    )


async def _schema_loaded(page: Page) -> None:
    """Waits until GraphiQL has introspected the schema with the caller's headers."""
    await page.get_by_role("button", name="Show Documentation Explorer").click()
    await expect(page.locator(".graphiql-doc-explorer")).to_contain_text("Root Types")


async def test_graphiql_runs_a_query_as_the_partner_for_the_purpose(
    graphiql: None, stack: Stack, tab: Tab
) -> None:
    posts = _graphql_posts(tab.page)
    await _open_graphiql(tab, stack)
    await _schema_loaded(tab.page)
    await _set_query(tab.page, "query Me {\n  me {\n    name\n    username\n  }\n}\n")
    await tab.page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    result = tab.page.locator(".graphiql-response")
    await expect(result).to_contain_text('"name": "Ada Lovelace"')
    await tab.page.get_by_role("button", name="Show History").click()
    await expect(tab.page.locator(".graphiql-history")).to_contain_text("Me")
    await tab.screenshot("result")

    introspections = [p for p in posts if "IntrospectionQuery" in (p.post_data or "")]
    queries = [p for p in posts if "query Me" in (p.post_data or "")]
    assert introspections and len(queries) == 1
    for sent in [*introspections[-1:], *queries]:
        headers = await sent.all_headers()
        assert headers["authorization"] == f"Bearer {KEY}"
        assert headers["x-purpose"] == PURPOSE
        assert headers["x-tonle-end-user"] == END_USER
    # The key lives in the tab's sessionStorage only: never localStorage, never the URL.
    local, session = await tab.page.evaluate(
        "() => [JSON.stringify(localStorage), JSON.stringify(sessionStorage)]"
    )
    assert KEY not in local and PURPOSE not in local
    assert json.loads(session)["tonle.explorer.key"] == KEY
    # So is GraphiQL's own state: the history (variables name real people) ends with the tab.
    assert not [name for name in json.loads(local) if name.startswith("graphiql:")]
    assert "query Me" in json.loads(session)["graphiql:queries"]
    assert KEY not in tab.page.url
    assert tab.problems() == []


async def test_graphiql_docs_list_the_fields_the_partner_may_query(
    graphiql: None, stack: Stack, tab: Tab
) -> None:
    await _open_graphiql(tab, stack)
    await _schema_loaded(tab.page)
    docs = tab.page.locator(".graphiql-doc-explorer")
    await docs.get_by_role("link", name="Query").click()
    await expect(docs).to_contain_text("topProducts")
    await expect(docs).to_contain_text("me")
    # The refusal of the first, keyless introspection is gone from the result pane.
    await expect(tab.page.locator(".graphiql-response")).not_to_contain_text("UNAUTHENTICATED")
    await tab.screenshot("docs")
    assert tab.problems() == []


async def test_graphiql_completes_field_names(graphiql: None, stack: Stack, tab: Tab) -> None:
    await _open_graphiql(tab, stack)
    await _schema_loaded(tab.page)
    await _set_query(tab.page, "{\n  \n}\n")
    await tab.page.evaluate(
        "() => { const cm = document.querySelector('.graphiql-query-editor .CodeMirror')"
        ".CodeMirror; cm.focus(); cm.setCursor({line: 1, ch: 2}); }"
    )
    await tab.page.keyboard.type("topP")
    hints = tab.page.locator(".CodeMirror-hints")
    await expect(hints).to_contain_text("topProducts")
    await tab.screenshot("completion")
    assert tab.problems() == []


async def test_graphiql_shows_the_gateways_message_for_a_wrong_key(
    graphiql: None, stack: Stack, tab: Tab
) -> None:
    await _open_graphiql(tab, stack, key="not-a-key")
    alert = tab.page.get_by_role("alert")
    await expect(alert).to_contain_text("UNAUTHENTICATED")
    await expect(alert).to_contain_text("No valid partner credentials")
    await tab.screenshot("wrong-key")
    assert tab.problems() == []

    await tab.page.get_by_label("API key").fill(KEY)
    await expect(alert).to_be_hidden()
    await _schema_loaded(tab.page)
    await expect(tab.page.locator(".graphiql-response")).not_to_contain_text("UNAUTHENTICATED")


async def test_graphiql_shows_the_gateways_message_without_a_key(
    graphiql: None, stack: Stack, tab: Tab
) -> None:
    await tab.page.goto(stack.gateway_url + "/graphql")
    alert = tab.page.get_by_role("alert")
    await expect(alert).to_contain_text("No valid partner credentials")
    await expect(tab.page.locator(".graphiql-response")).to_contain_text("UNAUTHENTICATED")
    await tab.screenshot("no-key")


# -- the plain page in a browser -------------------------------------------------------------


async def test_plain_page_runs_a_query_as_the_partner_for_the_purpose(
    stack: Stack, tab: Tab
) -> None:
    posts = _graphql_posts(tab.page)
    await tab.page.goto(stack.gateway_url + "/graphql?plain=1")
    await tab.page.get_by_label("API key").fill(KEY)
    await tab.page.get_by_label("Purpose").fill(PURPOSE)
    await tab.page.get_by_label("Purpose").press("Tab")
    schema = tab.page.locator("#schema")
    await expect(schema).to_contain_text("topProducts")
    await tab.page.locator("#query").fill("{ topProducts(first: 2) { name } }")
    await tab.page.get_by_role("button", name="Run").click()
    await expect(tab.page.locator("#result")).to_contain_text('"name": "Table"')
    await tab.screenshot("plain")

    ran = [p for p in posts if "topProducts(first: 2)" in (p.post_data or "")]
    assert len(ran) == 1
    headers: dict[str, Any] = await ran[0].all_headers()
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["x-purpose"] == PURPOSE
    local = await tab.page.evaluate("() => JSON.stringify(localStorage)")
    assert KEY not in local
    assert tab.problems() == []
