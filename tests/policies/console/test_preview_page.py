"""A preview run from the page against the live system: masked as the draft says, recorded in
the trail and in the access log as the admin's access, found there by an auditor."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from policies.console.trail import entries
from tests.policies.console.conftest import ConsoleSite
from tests.policies.console.html_forms import form_data, replaced
from tests.policies.console.live_console import live_console, someone_the_ngo_sees
from tests.policies.console.test_agreements_page import EDITOR, new_draft, send
from tests.policy_stack import PolicyStack

PERSON = "query P($s: String!) { person(spid: $s) { spid familyName khmerId birthDate } }"


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[PolicyStack, ConsoleSite]]:
    async with live_console(tmp_path) as running:
        yield running


async def test_a_preview_from_the_page_is_masked_and_logged_as_the_admins(
    live: tuple[PolicyStack, ConsoleSite],
) -> None:
    stack, site = live
    person = someone_the_ngo_sees(stack)
    erin = await site.signed_in("erin")
    draft_id = await new_draft(erin)
    path = EDITOR.format(id=draft_id)
    page = await erin.get(path)
    values = [(k, v) for k, v in form_data(page.text, action="/admin" + path) if k != "csrf_token"]
    assert (
        await send(erin, path, replaced(values, {"field:Person.familyName": "initial"}))
    ).status == 303

    answer = await erin.post(
        f"/drafts/{draft_id}/preview",
        {
            "partner": "ngo-cash",
            "purpose": "eligibility_check",
            "query": PERSON,
            "variables": json.dumps({"s": person.spid}),
        },
    )
    assert answer.status == 200
    assert answer.has(f'"familyName": "{person.family_name[0]}."')
    assert answer.has(f'"khmerId": "*****{person.khmer_id[-4:]}"')
    assert answer.has(f'"birthDate": "{person.birth_date.year}-01-01"')
    assert answer.has("Logged as access-log record")
    [entry] = [e for e in await entries(site.sessions) if e.action == "preview_query"]
    seq = entry.details["access_log_seq"]
    assert isinstance(seq, int)
    assert person.spid not in json.dumps(entry.details)

    aud = await site.signed_in("aud")
    found = await aud.get(f"/access-log?subject={person.spid}")
    assert found.has("preview admin:erin")
    assert found.has(f"preview as ngo-cash under draft {draft_id}")
