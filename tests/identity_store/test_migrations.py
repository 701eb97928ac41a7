"""Upgrading a registry created at revision 0001 keeps its people and makes them findable."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from identity_store import (
    count_people,
    create_engine,
    migrate,
    people_by_spids,
    people_in_area,
    register_person,
    search_people,
    session_factory,
)
from tests.identity_store.people import registration

SPID = "123456789010"  # a valid SPID (Verhoeff check digit 0)


async def test_a_0001_registry_upgrades_without_losing_anyone(database_url: str) -> None:
    await migrate(database_url, "0001")
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO person (spid, khmer_id, family_name, given_name, birth_date, sex, "
                "village_code) VALUES (:spid, '123456789', 'Sok', 'Dara', :born, 'male', :village)"
            ),
            {"spid": SPID, "born": dt.date(1990, 5, 17), "village": "02140408"},
        )
    await migrate(database_url)
    sessions = session_factory(engine)
    async with sessions() as session:
        (found,) = (await people_by_spids(session, [SPID])).values()
        assert (found.khmer_id, found.status, found.birth_precision) == (
            "123456789",
            "active",
            "day",
        )
        page = await people_in_area(session, "commune", "021405", 10)
        assert [p.spid for p in page.people] == [SPID]
        hits = await search_people(session, "Dara", "Sokh")
        assert [hit.person.spid for hit in hits] == [SPID]
        assert await count_people(session) == 1
    # The upgraded person is a de-duplication candidate like any other.
    again = await register_person(sessions, registration(village_code="02140408"))
    assert (again.decision, again.spid) == ("match", SPID)
    await engine.dispose()
