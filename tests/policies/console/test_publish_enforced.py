"""Publishing in the console is enforced by every running gateway within 5 s, no restart:
two real ``tonle gateway`` processes on one registry database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from pathlib import Path

import aiohttp

from identity_store import create_engine, migrate, session_factory
from policies.console import ConsoleConfig
from policies.console.accounts import create_user
from policies.console.drafts_store import load_draft, save_draft_document
from policies.document import parse_policy
from policies.repository import add_version, create_partner, issue_key, publish
from tests.gateway.classic import SUBGRAPHS, supergraph_sdl
from tests.policies.console.conftest import PASSWORD, serve_console
from tests.policy_gateways import ask, policy
from tests.servers import free_port, wait_healthy

ENFORCED_WITHIN_S = 5.0


@asynccontextmanager
async def gateway_process(
    database_url: str, supergraph: Path
) -> AsyncIterator[tuple[subprocess.Popen[bytes], str]]:
    """``tonle gateway`` enforcing the registry's published policy, polling it each second."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TONLE_")}
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, not awaited
        [
            *(sys.executable, "-m", "tonle.cli", "gateway"),
            *("--supergraph", str(supergraph), "--database", database_url),
            *("--port", str(port)),
        ],
        env={**clean, "TONLE_POLICY_POLL_S": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(process, url, "gateway", within_s=60)
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def test_two_running_gateways_enforce_an_approved_draft_within_five_seconds(
    database_url: str, tmp_path: Path
) -> None:
    await migrate(database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        for code in ("cash", "other"):
            await create_partner(sessions, code, code.title(), "development_partner")
        key = (await issue_key(sessions, "cash")).key
        first = await add_version(sessions, parse_policy(policy()), created_by="t", reason="t")
        await publish(sessions, first, by="t", reason="t")
        for username, roles in (("erin", ("editor",)), ("ada", ("approver",))):
            await create_user(sessions, username, PASSWORD, roles)
        supergraph = tmp_path / "supergraph.graphql"
        supergraph.write_text(
            supergraph_sdl({name: f"http://127.0.0.1:9/{name}" for name in SUBGRAPHS})
        )
        config = ConsoleConfig(database_url=database_url, supergraph_path=str(supergraph))

        async with AsyncExitStack() as stack:
            gateways = [
                await stack.enter_async_context(gateway_process(database_url, supergraph))
                for _ in range(2)
            ]
            site = await stack.enter_async_context(serve_console(replace(config), sessions))
            http = await stack.enter_async_context(aiohttp.ClientSession())
            for _, url in gateways:
                answer = await ask(http, url, key, purpose="statistics")
                assert answer.status == 200, answer.body

            # erin drafts: cash no longer has an agreement for statistics.
            erin = await site.signed_in("erin")
            made = await erin.post("/drafts", {"title": "cash: no statistics"})
            draft_id = int((made.location or "").rsplit("/", 1)[-1])
            draft = await load_draft(sessions, draft_id)
            document = replace(
                draft.document,
                agreements=tuple(
                    a
                    for a in draft.document.agreements
                    if (a.partner, a.purpose) != ("cash", "statistics")
                ),
            )
            await save_draft_document(sessions, draft_id, document, by="erin")
            assert (
                await erin.post(f"/drafts/{draft_id}/submit", {"reason": "ended"})
            ).status == 303

            ada = await site.signed_in("ada")
            approved = await ada.post(f"/drafts/{draft_id}/approve")
            assert approved.status == 303, approved.text
            at = time.monotonic()
            enforced: dict[str, float] = {}
            while len(enforced) < len(gateways) and time.monotonic() - at < 10:
                for _, url in gateways:
                    if url in enforced:
                        continue
                    answer = await ask(http, url, key, purpose="statistics")
                    if answer.status == 403 and answer.codes == ["FORBIDDEN_PURPOSE"]:
                        enforced[url] = time.monotonic() - at
                await asyncio.sleep(0.1)
            assert sorted(enforced) == sorted(url for _, url in gateways), enforced
            assert max(enforced.values()) < ENFORCED_WITHIN_S, enforced
            # The same processes, never restarted; the other purpose still answers.
            for process, url in gateways:
                assert process.poll() is None
                still = await ask(http, url, key, purpose="eligibility_check")
                assert still.status == 200
    finally:
        await engine.dispose()
