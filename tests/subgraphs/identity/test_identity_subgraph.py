"""The identity subgraph over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from identity_store import add_people, create_engine, migrate, new_spid, session_factory
from subgraphs.identity import create_app
from tests.identity_store.people import VILLAGE, person
from tests.servers import serve


@dataclass
class Subgraph:
    url: str
    session: aiohttp.ClientSession
    spids: list[str]

    async def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self.session.post(
            self.url + "/graphql", json={"query": query, "variables": variables or {}}
        ) as response:
            return await response.json()  # type: ignore[no-any-return]


@pytest.fixture
async def subgraph(database_url: str) -> AsyncIterator[Subgraph]:
    await migrate(database_url)
    engine = create_engine(database_url)
    rng = random.Random(7)
    people = [person(rng, family_name=f"Family{i:03d}") for i in range(120)]
    await add_people(session_factory(engine), people)
    await engine.dispose()
    async with serve(create_app(database_url)) as url, aiohttp.ClientSession() as session:
        yield Subgraph(url, session, [p.spid for p in people])


@pytest.fixture
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


async def test_a_person_is_found_by_spid(subgraph: Subgraph) -> None:
    spid = subgraph.spids[0]
    body = await subgraph.query(
        "query($s: String!) { person(spid: $s) { spid familyName sex villageCode } }", {"s": spid}
    )
    assert body == {
        "data": {
            "person": {
                "spid": spid,
                "familyName": "Family000",
                "sex": "MALE",
                "villageCode": VILLAGE,
            }
        }
    }


async def test_a_spid_with_a_wrong_check_digit_is_bad_user_input(subgraph: Subgraph) -> None:
    spid = subgraph.spids[0]
    wrong = spid[:-1] + str((int(spid[-1]) + 1) % 10)
    body = await subgraph.query("query($s: String!) { person(spid: $s) { spid } }", {"s": wrong})
    assert body["data"] == {"person": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "check digit" in body["errors"][0]["message"]


async def test_an_unknown_spid_is_null(subgraph: Subgraph) -> None:
    body = await subgraph.query(
        "query($s: String!) { person(spid: $s) { spid } }", {"s": new_spid(random.Random(99))}
    )
    assert body == {"data": {"person": None}}


async def test_people_of_a_village_page_by_cursor(subgraph: Subgraph) -> None:
    query = """
    query($v: String!, $after: String) {
      people(villageCode: $v, first: 50, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { cursor node { spid } }
      }
    }
    """
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        body = await subgraph.query(query, {"v": VILLAGE, "after": after})
        page = body["data"]["people"]
        assert page["totalCount"] == 120
        seen.extend(edge["node"]["spid"] for edge in page["edges"])
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3
    assert seen == sorted(subgraph.spids)


async def test_page_size_and_village_code_are_checked(subgraph: Subgraph) -> None:
    body = await subgraph.query('{ people(villageCode: "01020101", first: 10001) { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "between 1 and 10000" in body["errors"][0]["message"]
    body = await subgraph.query('{ people(villageCode: "99999999") { totalCount } }')
    assert "gazetteer" in body["errors"][0]["message"]


async def test_entities_for_100_people_take_one_sql_query(
    subgraph: Subgraph, statements: list[str]
) -> None:
    unknown = new_spid(random.Random(99))
    spids = [*subgraph.spids[:100], "not-a-spid", unknown, subgraph.spids[0]]
    body = await subgraph.query(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { spid familyName } } }",
        {"r": [{"__typename": "Person", "spid": s} for s in spids]},
    )
    assert "errors" not in body
    entities = body["data"]["_entities"]
    assert [e["spid"] for e in entities[:100]] == subgraph.spids[:100]
    assert entities[100:] == [None, None, {"spid": subgraph.spids[0], "familyName": "Family000"}]
    assert len(statements) == 1
    assert statements[0].lstrip().upper().startswith("SELECT")


async def test_a_page_and_its_people_take_no_more_queries_than_the_page(
    subgraph: Subgraph, statements: list[str]
) -> None:
    body = await subgraph.query(
        '{ people(villageCode: "01020101", first: 100) { edges { node { spid } } } }'
    )
    assert len(body["data"]["people"]["edges"]) == 100
    assert len(statements) == 1


async def test_a_forged_cursor_is_bad_user_input(subgraph: Subgraph) -> None:
    body = await subgraph.query(
        '{ people(villageCode: "01020101", after: "bm90LWEtY3Vyc29y") { totalCount } }'
    )
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "endCursor of the previous page" in body["errors"][0]["message"]


async def test_a_database_fault_is_internal_and_reveals_no_sql_or_data(
    subgraph: Subgraph, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE person RENAME TO person_gone"))
    await engine.dispose()
    spid = subgraph.spids[0]
    body = await subgraph.query("query($s: String!) { person(spid: $s) { spid } }", {"s": spid})
    error = body["errors"][0]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert error["path"] == ["person"]
    assert "SELECT" not in error["message"]
    assert "unexpected" in caplog.text
    assert spid not in caplog.text
    assert "SELECT" not in caplog.text


async def test_health_answers_ok(subgraph: Subgraph) -> None:
    async with subgraph.session.get(subgraph.url + "/health") as response:
        assert response.status == 200


async def test_the_sdl_declares_the_person_entity(subgraph: Subgraph) -> None:
    body = await subgraph.query("{ _service { sdl } }")
    assert 'type Person @key(fields: "spid")' in body["data"]["_service"]["sdl"]
