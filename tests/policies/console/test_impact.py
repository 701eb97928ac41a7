"""Impact: a seeded access log replayed against drafts, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from identity_store import add_people
from identity_store.gazetteer import villages_by_code
from policies.audit import AccessEntry, AccessLog
from policies.console.drafting import remove_agreement
from policies.console.impact import FEWER_PEOPLE, MASKED, REFUSED, replay
from policies.model import PolicyDocument, RowScopeRule
from policies.repository import Sessions, published
from sandbox.population import generate_population
from tests.policies.schemas import tonle_gateway

NOW = dt.datetime.now(dt.UTC)
NGO = ("ngo-cash", "eligibility_check")
PCA = ("pca", "payment_reconciliation")


def village(province: str) -> str:
    return next(code for code in villages_by_code() if code.startswith(province))


async def seed(sessions: Sessions) -> tuple[list[str], list[str]]:
    """Two people in Phnom Penh (12), two in Takeo (21); a month of logged requests."""
    people = generate_population(4, 7).people[:4]
    new = [
        replace(p.new_person(), village_code=village("12" if i < 2 else "21"))
        for i, p in enumerate(people)
    ]
    await add_people(sessions, new)
    phnom_penh, takeo = [p.spid for p in new[:2]], [p.spid for p in new[2:]]
    version = (await published(sessions)).number  # type: ignore[union-attr]

    def logged(hours: float, partner: str, purpose: str, fields, spids, **kw) -> AccessEntry:
        return AccessEntry(
            at=NOW - dt.timedelta(hours=hours),
            partner=partner,
            purpose=purpose,
            end_user=kw.get("end_user"),
            operation_name=kw.get("operation", "Q"),
            document_hash="ab" * 32,
            policy_version=kw.get("version", version),
            fields=tuple(fields),
            spids=tuple(spids),
            household_ids=(),
            outcome="ok",
        )

    records = [
        *(
            logged(h, *NGO, ["Person.spid", "Person.familyName"], phnom_penh[:1] + takeo[:1])
            for h in (1, 2, 3)
        ),
        logged(4, "nspc", "statistics", ["Person.spid", "Person.birthDate"], phnom_penh),
        logged(5, "nspc", "statistics", ["Person.spid"], takeo),
        logged(6, *PCA, ["Person.familyName", "Person.spid"], phnom_penh[:1] + takeo[:1]),
        logged(7, "admin:erin", "eligibility_check", ["Person.spid"], phnom_penh),
        logged(24 * 40, *NGO, ["Person.spid", "Person.familyName"], phnom_penh),
    ]
    async with AccessLog(sessions) as log:
        for record in records:
            await log.append(record)
    return phnom_penh, takeo


def with_agreement(document: PolicyDocument, pair: tuple[str, str], **changes) -> PolicyDocument:
    old = document.agreement(*pair)
    assert old is not None
    new = replace(old, **changes)
    return replace(document, agreements=tuple(new if a is old else a for a in document.agreements))


def with_rule(document: PolicyDocument, pair, type_name: str, field: str, rule: str):
    old = document.agreement(*pair)
    assert old is not None
    fields = {**old.fields, type_name: {**old.fields.get(type_name, {}), field: rule}}
    return with_agreement(document, pair, fields=fields)


async def test_the_published_policy_replayed_changes_nothing(console_sessions: Sessions) -> None:
    await seed(console_sessions)
    current = (await published(console_sessions)).document  # type: ignore[union-attr]
    report = await replay(console_sessions, current, tonle_gateway().api_schema, days=30, now=NOW)
    # 6 partners' requests in the window; the preview and the 40-day-old one are not replayed
    assert report.requests == 6 and report.previews == 1
    assert report.affected == 0
    assert {(p.partner, p.purpose, p.requests) for p in report.pairs} == {
        (*NGO, 3),
        ("nspc", "statistics", 2),
        (*PCA, 1),
    }


async def test_a_hidden_field_refuses_the_requests_that_asked_for_it(
    console_sessions: Sessions,
) -> None:
    await seed(console_sessions)
    current = (await published(console_sessions)).document  # type: ignore[union-attr]
    draft = with_rule(current, NGO, "Person", "familyName", "hidden")
    report = await replay(console_sessions, draft, tonle_gateway().api_schema, days=30, now=NOW)
    ngo = next(p for p in report.pairs if p.partner == "ngo-cash")
    assert (ngo.requests, ngo.refused, ngo.affected) == (3, 3, 3)
    assert ngo.lost_fields == {"Person.familyName": 3}
    assert ngo.reasons == {"asks for Person.familyName, which the draft hides": 3}
    assert [e.seq for e in ngo.examples[REFUSED]] == [3, 2, 1]
    assert report.pairs[0] is ngo  # the most affected first


async def test_no_agreement_dates_and_people_per_request(console_sessions: Sessions) -> None:
    await seed(console_sessions)
    current = (await published(console_sessions)).document  # type: ignore[union-attr]
    draft = remove_agreement(current, "nspc", "statistics").document
    assert draft is not None
    ended = NOW.date() - dt.timedelta(days=1)
    draft = with_agreement(draft, NGO, valid_until=ended)
    old = draft.agreement(*PCA)
    assert old is not None
    draft = with_agreement(draft, PCA, limits=replace(old.limits, max_people_per_request=1))
    report = await replay(console_sessions, draft, tonle_gateway().api_schema, days=30, now=NOW)
    by_pair = {(p.partner, p.purpose): p for p in report.pairs}
    assert by_pair[("nspc", "statistics")].reasons == {
        "no agreement for statistics in the draft": 2
    }
    assert by_pair[NGO].refused == 3
    assert "not today" in next(iter(by_pair[NGO].reasons))
    assert by_pair[PCA].reasons == {"its answer held 2 people; the draft allows 1": 1}


async def test_fields_newly_masked_and_people_outside_a_narrower_scope(
    console_sessions: Sessions,
) -> None:
    phnom_penh, takeo = await seed(console_sessions)
    current = (await published(console_sessions)).document  # type: ignore[union-attr]
    draft = with_rule(current, PCA, "Person", "familyName", "initial")
    draft = with_agreement(draft, PCA, scope=RowScopeRule(areas=("12",)))
    report = await replay(console_sessions, draft, tonle_gateway().api_schema, days=30, now=NOW)
    pca = next(p for p in report.pairs if p.partner == "pca")
    assert (pca.refused, pca.masked, pca.fewer_people, pca.people_lost) == (0, 1, 1, 1)
    assert pca.masked_fields == {"Person.familyName: visible → initial": 1}
    assert pca.examples[MASKED][0].seq == 6
    assert pca.examples[FEWER_PEOPLE][0].detail == (
        "1 of its 2 people are outside the draft's row scope"
    )
    # and the examples name no one
    assert not any(s in str(pca.examples) for s in phnom_penh + takeo)


async def test_the_window_is_bounded(console_sessions: Sessions) -> None:
    current = (await published(console_sessions)).document  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="between 1 and 366"):
        await replay(console_sessions, current, tonle_gateway().api_schema, days=0)
