"""The Check, Preview (its schema view) and Impact pages of a draft, over real HTTP."""

from __future__ import annotations

from policies.console.drafts_store import load_draft, new_draft, save_draft_document
from policies.console.trail import entries
from tests.policies.console.conftest import ConsoleSite
from tests.policies.console.drafting_helpers import with_rule
from tests.policies.console.test_impact import seed

NGO = ("ngo-cash", "eligibility_check")


async def draft_with(site: ConsoleSite, type_name: str, field: str, rule: str, pair=NGO) -> int:
    draft_id = await new_draft(site.sessions, author="erin", title="a change", base="published")
    draft = await load_draft(site.sessions, draft_id)
    await save_draft_document(
        site.sessions, draft_id, with_rule(draft.document, *pair, type_name, field, rule), by="erin"
    )
    return draft_id


async def test_the_check_page_lists_findings_and_links_to_the_editor(site: ConsoleSite) -> None:
    draft_id = await draft_with(site, "Person", "familyName", "visible", ("nspc", "statistics"))
    ada = await site.signed_in("ada")
    page = await ada.get(f"/drafts/{draft_id}/check")
    assert page.status == 200
    assert page.has("No errors.")
    assert page.has("a guardrail keeps Person.familyName hidden (the agreement says visible)")
    assert (
        f'href="/admin/drafts/{draft_id}/agreements/nspc/statistics#c-field-Person-familyName"'
        in page.text
    )
    broken = await draft_with(site, "Person", "birthDate", "initial")
    page = await ada.get(f"/drafts/{broken}/check")
    assert page.has("1 error: this draft cannot be published until it is fixed.")
    assert page.has("Person.birthDate: initial applies to ID, String fields, not Date")


async def test_the_preview_page_shows_the_schema_and_its_changes(site: ConsoleSite) -> None:
    draft_id = await draft_with(site, "Person", "familyName", "initial")
    aud = await site.signed_in("aud")
    page = await aud.get(f"/drafts/{draft_id}/preview?partner=ngo-cash&purpose=eligibility_check")
    assert page.status == 200
    assert page.has("+   familyName: String! # masked: initial")
    assert page.has("-   familyName: String!")
    assert page.has("# ngo-cash for eligibility_check, draft")
    # an auditor reads the schema but runs no query: that would return personal data
    assert page.has("it needs the editor or approver role")
    refused = await aud.post(
        f"/drafts/{draft_id}/preview",
        {"partner": "ngo-cash", "purpose": "eligibility_check", "query": "{ __typename }"},
    )
    assert refused.status == 403
    nothing = await aud.get(f"/drafts/{draft_id}/preview?partner=ngo-cash&purpose=statistics")
    assert nothing.has("Neither the draft nor the published version has an agreement")


async def test_a_preview_query_that_is_not_json_or_a_mutation_is_refused(site: ConsoleSite) -> None:
    draft_id = await draft_with(site, "Person", "familyName", "initial")
    erin = await site.signed_in("erin")
    await erin.get(f"/drafts/{draft_id}/preview")
    form = {"partner": "ngo-cash", "purpose": "eligibility_check", "query": "{ __typename }"}
    bad = await erin.post(f"/drafts/{draft_id}/preview", {**form, "variables": "[1, 2"})
    assert bad.status == 400 and bad.has("The variables are not JSON")
    assert bad.has("[1, 2")  # what was typed is kept
    mutation = await erin.post(
        f"/drafts/{draft_id}/preview",
        {**form, "query": 'mutation { mergePeople(survivor: "x", merged: "y") { spid } }'},
    )
    assert mutation.status == 200 and mutation.has("The preview runs queries only")
    [entry] = [e for e in await entries(site.sessions) if e.action == "preview_query"]
    assert entry.details["status"] == 400 and entry.details["access_log_seq"] is None
    assert "mergePeople" not in str(entry.details)  # the document's hash, not its text


async def test_the_impact_page(site: ConsoleSite) -> None:
    await seed(site.sessions)
    draft_id = await draft_with(site, "Person", "familyName", "hidden")
    aud = await site.signed_in("aud")
    page = await aud.get(f"/drafts/{draft_id}/impact?days=7")
    assert page.status == 200
    assert page.has("6 requests from")
    assert page.has("3 would be refused or change (1 console preview left out)")
    assert page.has("3 times: asks for Person.familyName, which the draft hides")
    assert page.has("Fields lost: Person.familyName (3)")
    odd = await aud.get(f"/drafts/{draft_id}/impact?days=-1")
    assert odd.status == 200 and 'value="30" selected' in odd.text
