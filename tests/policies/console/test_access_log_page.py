"""The access-log page: auditors only, search, CSV export, chart, partner text as text."""

from __future__ import annotations

import csv
import datetime as dt
import io

from policies.audit import AccessEntry, AccessLog
from policies.console.trail import entries
from policies.repository import Sessions
from tests.policies.console.conftest import ConsoleSite

A = "100000000001"
NOW = dt.datetime.now(dt.UTC)


async def seed(sessions: Sessions) -> None:
    def logged(hours: int, partner: str, spids=(A,), **kw: str) -> AccessEntry:
        return AccessEntry(
            at=NOW - dt.timedelta(hours=hours),
            partner=partner,
            purpose=kw.get("purpose", "eligibility_check"),
            end_user=kw.get("end_user"),
            operation_name=kw.get("operation_name", "Check"),
            document_hash="ef" * 32,
            policy_version=1,
            fields=("Person.spid",),
            spids=tuple(spids),
            household_ids=(),
            outcome="ok",
        )

    async with AccessLog(sessions) as log:
        for entry in (
            logged(30, "nssf", purpose="enrolment"),
            logged(
                20, "ngo-cash", spids=("100000000002",), end_user="<img src=x onerror=alert(1)>"
            ),
            logged(10, "ngo-cash", operation_name='=HYPERLINK("http://evil.example","x")'),
            logged(1, "admin:erin"),
        ):
            await log.append(entry)


async def test_only_auditors_read_the_access_log(site: ConsoleSite) -> None:
    await seed(site.sessions)
    for username in ("erin", "ada", "root"):
        client = await site.signed_in(username)
        for path in ("/access-log", "/access-log.csv", f"/access-log?subject={A}"):
            page = await client.get(path)
            assert page.status == 403, (username, path)
            assert page.has("This needs the role auditor")
    anonymous = await site.client().get("/access-log.csv")
    assert anonymous.status == 303 and "/login" in (anonymous.location or "")
    aud = await site.signed_in("aud")
    assert (await aud.get("/access-log")).status == 200


async def test_who_saw_this_person_and_partner_text_shown_as_text(site: ConsoleSite) -> None:
    await seed(site.sessions)
    aud = await site.signed_in("aud")
    page = await aud.get(f"/access-log?subject={A}")
    assert page.has("3 records, newest first, that returned person 100000000001's data")
    assert page.has("preview admin:erin")
    everything = await aud.get("/access-log")
    assert "<img src=x onerror=alert(1)>" not in everything.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in everything.text
    assert everything.has("4 records")
    assert "<svg" in everything.text and everything.has("ngo-cash / eligibility_check (2)")
    assert everything.has("Not yet signed")
    bad = await aud.get("/access-log?subject=%3Cscript%3E&since=someday")
    assert bad.status == 200 and "<script>" not in bad.text
    assert bad.has("is not a date written YYYY-MM-DD")


async def test_the_csv_export_defuses_formulas_and_is_in_the_trail(site: ConsoleSite) -> None:
    await seed(site.sessions)
    aud = await site.signed_in("aud")
    page = await aud.get("/access-log.csv?partner=ngo-cash")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert page.headers["Content-Disposition"].startswith('attachment; filename="access-log-')
    rows = list(csv.DictReader(io.StringIO(page.text)))
    assert [r["partner"] for r in rows] == ["ngo-cash", "ngo-cash"]
    assert rows[0]["operation_name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert A not in page.text
    [entry] = [e for e in await entries(site.sessions) if e.action == "access_log_export"]
    assert entry.details == {"partner": "ngo-cash"}
    await aud.get(f"/access-log.csv?subject={A}")
    exports = [e.details for e in await entries(site.sessions) if e.action == "access_log_export"]
    # the trail says an export was about one person, never who
    assert sorted(exports, key=len) == [{"for_one": "person"}, {"partner": "ngo-cash"}]


async def test_verifying_the_chain_from_the_page(site: ConsoleSite) -> None:
    await seed(site.sessions)
    aud = await site.signed_in("aud")
    page = await aud.get("/access-log?verify=1")
    assert page.has("Intact. 4 records recomputed")
    assert any(e.action == "access_log_verify" for e in await entries(site.sessions))


async def test_the_access_log_is_in_the_navigation_of_auditors_only(site: ConsoleSite) -> None:
    erin = await site.signed_in("erin")
    assert 'href="/admin/access-log"' not in (await erin.get("/")).text
    aud = await site.signed_in("aud")
    assert 'href="/admin/access-log"' in (await aud.get("/")).text
