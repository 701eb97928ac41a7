"""The agreement editor over real HTTP: the form the page draws, sent back by a "browser",
saves exactly what was changed; bad input is shown again and stores nothing; roles hold."""

from __future__ import annotations

import re

from policies.console.drafts_store import load_draft
from policies.console.trail import entries
from tests.policies.console.conftest import Client, ConsoleSite, Page
from tests.policies.console.html_forms import form_data, replaced

EDITOR = "/drafts/{id}/agreements/ngo-cash/eligibility_check"


async def new_draft(client: Client, title: str = "ngo-cash: initials only") -> int:
    page = await client.post("/drafts", {"title": title})
    assert page.status == 303, page.text
    found = re.fullmatch(r"/admin/drafts/(\d+)", page.location or "")
    assert found
    return int(found.group(1))


async def send(client: Client, path: str, values: list[tuple[str, str]]) -> Page:
    """POST ``values`` as a browser would, with the page's CSRF token."""
    assert client.csrf
    return await client.request(
        "POST",
        path,
        data=[*values, ("csrf_token", client.csrf)],  # type: ignore[arg-type]
    )


async def editor_form(client: Client, path: str) -> tuple[Page, list[tuple[str, str]]]:
    page = await client.get(path)
    assert page.status == 200, page.text
    values = form_data(page.text, action="/admin" + path)
    return page, [(k, v) for k, v in values if k != "csrf_token"]


async def test_masking_a_field_in_the_page_saves_exactly_that_rule(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    draft_id = await new_draft(erin)
    before = (await load_draft(site.sessions, draft_id)).document
    path = EDITOR.format(id=draft_id)
    page, values = await editor_form(erin, path)
    assert page.has("ngo-cash for eligibility_check")
    assert page.has("12 Phnom Penh (រាជធានីភ្នំពេញ)")
    # untouched, as the browser sends it: nothing changes
    untouched = await send(erin, path, values)
    assert untouched.status == 303
    assert (await erin.get(path)).has("Nothing changed.")
    # one select changed
    saved = await send(erin, path, replaced(values, {"field:Person.familyName": "initial"}))
    assert saved.status == 303 and saved.location == "/admin" + path
    after = (await load_draft(site.sessions, draft_id)).document
    expected = before.to_json()
    ngo = next(a for a in expected["agreements"] if a["partner"] == "ngo-cash")
    ngo["fields"]["Person"]["familyName"] = "initial"
    assert after.to_json() == expected
    shown = await erin.get(path)
    assert shown.has("Saved ngo-cash/eligibility_check: Person.familyName: visible → initial.")
    [entry] = [e for e in await entries(site.sessions) if e.action == "agreement_edit"]
    assert (entry.username, entry.target) == ("erin", f"draft {draft_id}")
    assert entry.details["changes"] == ["Person.familyName: visible → initial"]


async def test_scope_limits_dates_and_arguments_through_the_page(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    draft_id = await new_draft(erin)
    path = EDITOR.format(id=draft_id)
    _, values = await editor_form(erin, path)
    changes: dict[str, str | list[str]] = {
        "scope": "areas",
        "area": ["1201", "21"],
        "limit:max_people_per_request": "250",
        "valid_until": "2027-12-31",
        "arg:Query.people(villageCode)": ["hidden"],
    }
    assert (await send(erin, path, replaced(values, changes))).status == 303
    agreement = (await load_draft(site.sessions, draft_id)).document.agreement(
        "ngo-cash", "eligibility_check"
    )
    assert agreement is not None
    assert agreement.scope.areas == ("1201", "21")
    assert agreement.limits.max_people_per_request == 250
    assert str(agreement.valid_until) == "2027-12-31"
    assert "Query.people(villageCode)" in agreement.hidden_arguments
    # the page shows it back: the district checked, its province open
    page, again = await editor_form(erin, path)
    assert ("area", "1201") in again and ("area", "12") not in again
    assert re.search(r'id="area-1201" name="area" value="1201" checked', page.text)


async def test_bad_input_is_shown_again_and_nothing_is_stored(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    draft_id = await new_draft(erin)
    before = (await load_draft(site.sessions, draft_id)).document
    path = EDITOR.format(id=draft_id)
    _, values = await editor_form(erin, path)
    bad = replaced(
        values,
        {
            "field:Person.sex": "hidden",  # a good change, kept in the form
            "field:Person.birthDate": "initial",
            "limit:max_people_per_request": "lots",
            "valid_from": "2026-02-30",
        },
    )
    page = await send(erin, path, bad)
    assert page.status == 400
    assert page.has("Not saved: 3 problems")
    assert page.has("Person.birthDate: initial applies to ID, String fields, not Date")
    assert page.has("People per request: a whole number, 0 or more; got 'lots'")
    assert page.has("Valid from: a date written YYYY-MM-DD; got '2026-02-30'")
    assert page.has("Nothing was stored")
    # what was typed is still there, the good change too
    shown = dict(form_data(page.text, action="/admin" + path))
    assert shown["limit:max_people_per_request"] == "lots"
    assert shown["field:Person.sex"] == "hidden"
    assert (await load_draft(site.sessions, draft_id)).document == before
    assert not [e for e in await entries(site.sessions) if e.action == "agreement_edit"]


async def test_only_the_drafts_author_edits_it(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    draft_id = await new_draft(erin)
    path = EDITOR.format(id=draft_id)
    _, values = await editor_form(erin, path)
    change = replaced(values, {"field:Person.familyName": "hidden"})
    for username in ("eli", "ada", "aud"):
        other = await site.signed_in(username)
        page = await other.get(path)
        assert page.status == 200 and page.has("Read only")
        assert 'fieldset class="plain" disabled' in page.text
        refused = await send(other, path, change)
        assert refused.status == 403
    before = (await load_draft(site.sessions, draft_id)).document
    assert before.agreement("ngo-cash", "eligibility_check").rule("Person", "familyName") == (  # type: ignore[union-attr]
        "visible"
    )
    # and without the CSRF token not even the author
    no_token = await erin.request("POST", path, data=change)  # type: ignore[arg-type]
    assert no_token.status == 403


async def test_agreements_are_added_from_a_copy_and_removed(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    draft_id = await new_draft(erin)
    listing = await erin.get(f"/drafts/{draft_id}/agreements")
    assert listing.status == 200 and listing.has("ngo-cash eligibility_check")
    added = await erin.post(
        f"/drafts/{draft_id}/agreements",
        {
            "partner": "ngo-food",
            "purpose": "eligibility_check",
            "copy_of": "ngo-cash/eligibility_check",
        },
    )
    assert added.status == 303
    assert added.location == f"/admin/drafts/{draft_id}/agreements/ngo-food/eligibility_check"
    document = (await load_draft(site.sessions, draft_id)).document
    assert document.agreement("ngo-food", "eligibility_check") is not None
    twice = await erin.post(
        f"/drafts/{draft_id}/agreements", {"partner": "ngo-food", "purpose": "eligibility_check"}
    )
    assert twice.status == 400 and twice.has(
        "ngo-food already has an agreement for eligibility_check"
    )
    removed = await erin.post(f"/drafts/{draft_id}/agreements/ngo-food/eligibility_check/remove")
    assert removed.status == 303
    assert (await load_draft(site.sessions, draft_id)).document.agreement(
        "ngo-food", "eligibility_check"
    ) is None
    actions = [e.action for e in await entries(site.sessions)]
    assert "agreement_add" in actions and "agreement_remove" in actions


async def test_text_an_admin_typed_is_shown_as_text(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    draft_id = await new_draft(erin)
    path = EDITOR.format(id=draft_id)
    _, values = await editor_form(erin, path)
    evil = '"><script>alert(1)</script>'
    assert (await send(erin, path, replaced(values, {"legal_basis": evil}))).status == 303
    page = await erin.get(path)
    assert "<script>alert(1)</script>" not in page.text
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    unknown = await erin.get(f"/drafts/{draft_id}/agreements/<b>x</b>/statistics")
    assert unknown.status == 404 and "<b>x</b>" not in unknown.text
