"""A console served over real HTTP on 127.0.0.1 under ``/admin``, on SQLite and PostgreSQL,
with the demo partners, the demo policy published, and one account per role."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from identity_store import create_engine, migrate, session_factory
from policies.console import ConsoleConfig, create_console_app
from policies.console.accounts import hash_password
from policies.console.models import AdminUser
from policies.repository import Sessions
from tests.policies.schemas import tonle_supergraph
from tests.servers import serve
from tonle.demo_partners import set_up_partners

PASSWORD = "a long test password 1"
# username -> roles
ACCOUNTS = {
    "erin": ("editor",),
    "eli": ("editor",),
    "ada": ("approver",),
    "abe": ("approver",),
    "aud": ("auditor",),
    "root": ("editor", "approver"),
}


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Page:
    status: int
    text: str
    headers: Mapping[str, str]
    cookies_set: list[str]

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    def has(self, words: str) -> bool:
        """Whether the page's text (tags removed, entities read) holds ``words``."""
        plain = html.unescape(re.sub(r"<[^>]+>", " ", self.text))
        return " ".join(words.split()) in " ".join(plain.split())


@dataclass
class Client:
    """A browser of sorts: its own cookies (set by hand when a test plants one), the CSRF
    token of the last page it saw, redirects not followed unless asked."""

    http: aiohttp.ClientSession
    base: str  # http://127.0.0.1:PORT/admin
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str | None = None

    async def request(
        self, method: str, path: str, *, data: Mapping[str, str] | None = None, **options: Any
    ) -> Page:
        headers = dict(options.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        async with self.http.request(
            method,
            self.base + path,
            data=data,
            headers=headers,
            allow_redirects=False,
            **options,
        ) as response:
            text = await response.text()
            set_cookies = response.headers.getall("Set-Cookie", [])
        for header in set_cookies:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        found = _CSRF.search(text)
        if found:
            self.csrf = found.group(1)
        return Page(response.status, text, dict(response.headers), set_cookies)

    async def get(self, path: str, **options: Any) -> Page:
        return await self.request("GET", path, **options)

    async def post(
        self, path: str, data: Mapping[str, str] | None = None, *, csrf: bool = True, **options: Any
    ) -> Page:
        form = dict(data or {})
        if csrf and "csrf_token" not in form:
            if self.csrf is None:
                await self.get("/login")
            assert self.csrf is not None
            form["csrf_token"] = self.csrf
        return await self.request("POST", path, data=form, **options)

    async def sign_in(self, username: str, password: str = PASSWORD, next: str = "") -> Page:
        await self.get("/login")
        page = await self.post("/login", {"username": username, "password": password, "next": next})
        if page.status == 303:
            await self.get("/")  # the signed-in session's CSRF token
        return page


@dataclass
class ConsoleSite:
    base: str
    sessions: Sessions
    config: ConsoleConfig
    http: aiohttp.ClientSession

    def client(self) -> Client:
        return Client(self.http, self.base)

    async def signed_in(self, username: str) -> Client:
        client = self.client()
        page = await client.sign_in(username)
        assert page.status == 303, page.text
        return client


@pytest.fixture
async def console_sessions(database_url: str) -> AsyncIterator[Sessions]:
    """A migrated registry with the demo partners, the demo policy published, the accounts."""
    await migrate(database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    await set_up_partners(sessions)
    # Hashed once for every test (argon2 is slow on purpose); create_user has tests of its own.
    async with sessions() as session, session.begin():
        for username, roles in ACCOUNTS.items():
            session.add(
                AdminUser(
                    username=username,
                    display_name=username.title(),
                    password_hash=_password_hash(),
                    roles=list(roles),
                    failed_count=0,
                )
            )
    yield sessions
    await engine.dispose()


@pytest.fixture
def supergraph_file(tmp_path: Path) -> Path:
    path = tmp_path / "supergraph.graphql"
    path.write_text(tonle_supergraph(), encoding="utf-8")
    return path


@pytest.fixture
def console_config(database_url: str, supergraph_file: Path) -> ConsoleConfig:
    return ConsoleConfig(database_url=database_url, supergraph_path=str(supergraph_file))


@asynccontextmanager
async def serve_console(
    config: ConsoleConfig, sessions: Sessions, **changes: Any
) -> AsyncIterator[ConsoleSite]:
    """The console mounted at /admin of an outer app that runs its lifespan, as tonle does."""
    config = replace(config, **changes)
    app = create_console_app(config)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with app.router.lifespan_context(app):
            yield

    outer = Starlette(routes=[Mount("/admin", app)], lifespan=lifespan)
    async with serve(outer) as url, aiohttp.ClientSession() as http:
        yield ConsoleSite(url + "/admin", sessions, config, http)


@pytest.fixture
async def site(
    console_config: ConsoleConfig, console_sessions: Sessions
) -> AsyncIterator[ConsoleSite]:
    async with serve_console(console_config, console_sessions) as served:
        yield served
