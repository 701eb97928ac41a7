"""A seeded registry behind a real identity subgraph, and a client that sends caller headers."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from sqlalchemy import insert, select

from identity_store import (
    NewHousehold,
    NewPerson,
    Scope,
    add_households,
    add_people,
    admits,
    create_engine,
    merge_people,
    migrate,
    new_spid,
    session_factory,
    unmerge_person,
)
from identity_store.matching import MatchModel
from identity_store.models import ProgramLink, ReviewCase
from policies.caller import Caller, RowScope
from subgraphs.identity import create_app
from tests.identity_store.people import person
from tests.servers import serve

IN = "01020101"  # province 01, district 0102, commune 010201
NEIGHBOUR = "01020102"  # same commune
DISTRICT = "01020201"  # same district, another commune
PROVINCE = "01030101"  # same province, another district
AWAY = "12010101"  # another province
UNKNOWN_SPID = new_spid(random.Random(99))  # no one in the seeded registry holds it


@dataclass
class Client:
    """Posts GraphQL to the subgraph as the gateway would, caller headers and all."""

    url: str
    session: aiohttp.ClientSession

    async def query(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        caller: Caller | None = None,
    ) -> dict[str, Any]:
        headers = caller.headers() if caller is not None else {}
        body = {"query": query, "variables": variables or {}}
        async with self.session.post(self.url + "/graphql", json=body, headers=headers) as response:
            return await response.json()  # type: ignore[no-any-return]


@dataclass
class Seeded:
    """Who is where, which operators registered whom, and the SPIDs of the merges."""

    client: Client
    database_url: str
    people: dict[str, NewPerson]  # by name: home, neighbour, district, province, away, ...
    operators: dict[str, set[str]]  # spid -> operators holding a link, after the merges
    merged: dict[str, str]  # merged spid -> survivor
    cases: dict[str, int]  # review case ids by name

    def spid(self, name: str) -> str:
        return self.people[name].spid

    def admitted(self, scope: RowScope) -> set[str]:
        """The standing SPIDs the scope admits, by the registry's pure rule."""
        rule = Scope(scope.areas, scope.operator)
        return {
            p.spid
            for p in self.people.values()
            if p.spid not in self.merged
            and admits(rule, p.village_code, self.operators.get(p.spid, set()))
        }


def caller(
    areas: tuple[str, ...] | None = None,
    operator: str | None = None,
    *,
    partner: str = "mosvy",
    registers_as: str | None = None,
    programmes: tuple[str, ...] | None = None,
    end_user: str | None = None,
) -> Caller:
    """A signed-in partner with a row scope (headers as the gateway sends them)."""
    return Caller(
        partner=partner,
        purpose="enrolment",
        end_user=end_user,
        scope=RowScope(areas, operator),
        operator=registers_as,
        programmes=programmes,
    )


def without(value: Any, *values: str) -> Any:
    """``value`` (a JSON document) with each of ``values`` replaced in every string of it."""
    if isinstance(value, str):
        for old in values:
            value = value.replace(old, "<VALUE>")
        return value
    if isinstance(value, list):
        return [without(item, *values) for item in value]
    if isinstance(value, dict):
        return {key: without(item, *values) for key, item in value.items()}
    return value


def same_answer(
    a: dict[str, Any], a_values: tuple[str, ...], b: dict[str, Any], b_values: tuple[str, ...]
) -> bool:
    """Whether two whole responses are the same but for the SPIDs (or IDs) they were about."""
    return bool(without(a, *a_values) == without(b, *b_values))


@asynccontextmanager
async def seeded_registry(
    database_url: str, *, match_model: MatchModel | None = None
) -> AsyncIterator[Seeded]:
    """A migrated registry with people in every kind of area, links, households, merges and
    review cases, served by a real identity subgraph on 127.0.0.1."""
    await migrate(database_url)
    rng = random.Random(61)
    named = {
        "home": person(rng, family_name="Chhun", given_name="Sophal", khmer_id="111111111"),
        "neighbour": person(rng, family_name="Keo", given_name="Bopha", village_code=NEIGHBOUR),
        "district": person(rng, family_name="Ly", given_name="Vannak", village_code=DISTRICT),
        "province": person(rng, family_name="Pich", given_name="Sreymom", village_code=PROVINCE),
        "away": person(
            rng, family_name="Touch", given_name="Rithy", village_code=AWAY, khmer_id="222222222"
        ),
        "child": person(
            rng,
            family_name="Touch",
            given_name="Dany",
            birth_date=dt.date(2015, 3, 1),
            village_code=AWAY,
        ),
        # merged: m_in (in area 01) into s_out (away); m_out (away) into s_in (in area 01)
        "m_in": person(rng, family_name="Meas", given_name="Kanha"),
        "s_out": person(rng, family_name="Meas", given_name="Kanha", village_code=AWAY),
        "m_out": person(rng, family_name="Nhem", given_name="Sokha", village_code=AWAY),
        "s_in": person(rng, family_name="Nhem", given_name="Sokha"),
        # split: absorbed `split_off` (away), then unmerged
        "absorber": person(rng, family_name="Heng", given_name="Piseth"),
        "split_off": person(rng, family_name="Heng", given_name="Piseth", village_code=AWAY),
    }
    # Enough people to page through, in and out of every area.
    villages = (IN, NEIGHBOUR, DISTRICT, PROVINCE, AWAY)
    for i in range(40):
        named[f"crowd{i:02d}"] = person(
            rng,
            family_name="Seng",
            given_name="Dara",
            birth_date=dt.date(1985, 1 + i % 12, 1 + i % 28),
            village_code=villages[i % len(villages)],
        )
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        await add_people(sessions, named.values())
        linked = {
            "home": ("nssf",),
            "neighbour": ("pca",),
            "district": ("nssf", "pca"),
            "away": ("nssf",),
            "m_out": ("nssf",),
            "s_in": ("pca",),
        }
        for i in range(40):
            linked[f"crowd{i:02d}"] = (("nssf",), ("pca",), ("nssf", "pca"), ())[i % 4]
        async with sessions.begin() as session:
            await session.execute(
                insert(ProgramLink),
                [
                    {
                        "spid": named[name].spid,
                        "origin_spid": named[name].spid,
                        "operator": op,
                        "programme": "health_care",
                        "local_id": f"{op}-{name}",
                    }
                    for name, ops in linked.items()
                    for op in ops
                ],
            )
        await add_households(
            sessions,
            [
                NewHousehold(
                    "HH-MIXED", AWAY, [(named["away"].spid, "head"), (named["home"].spid, "spouse")]
                ),
                NewHousehold("HH-AWAY", AWAY, [(named["child"].spid, "head")]),
            ],
        )
        merged = {
            named["m_in"].spid: named["s_out"].spid,
            named["m_out"].spid: named["s_in"].spid,
        }
        for gone, survivor in merged.items():
            await merge_people(sessions, survivor, gone, "registry", "duplicate")
        await merge_people(sessions, named["absorber"].spid, named["split_off"].spid, "r", "dup")
        await unmerge_person(sessions, named["split_off"].spid, "registry", "two people")
        pairs = {
            "inside": ("neighbour", "home"),
            "half": ("home", "away"),
            "outside": ("away", "child"),
            "via_merge": ("district", "m_out"),  # m_out answers s_in, inside
        }
        async with sessions.begin() as session:
            rows = {
                name: ReviewCase(
                    spid=named[a].spid,
                    candidate_spid=named[b].spid,
                    probability=0.5,
                    weight=0.0,
                    reasons={"reasons": [], "candidate": named[b].spid},
                )
                for name, (a, b) in pairs.items()
            }
            session.add_all(rows.values())
        cases = {name: row.id for name, row in rows.items()}
        operators: dict[str, set[str]] = defaultdict(set)
        async with sessions() as session:
            for spid, op in await session.execute(select(ProgramLink.spid, ProgramLink.operator)):
                operators[spid].add(op)
    finally:
        await engine.dispose()
    async with (
        serve(create_app(database_url, match_model=match_model)) as url,
        aiohttp.ClientSession() as session,
    ):
        yield Seeded(Client(url, session), database_url, named, operators, merged, cases)
