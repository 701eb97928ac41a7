"""Trusted documents in the registry database (SQLite and PostgreSQL): registered exactly as
given, by SHA-256, per partner; every change moves the policy epoch and reaches the store."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import pytest
from graphql import build_schema

from identity_store import create_engine, migrate, session_factory
from policies.cedar import Catalogue
from policies.repository import Sessions, UnknownPartner, create_partner, epoch
from policies.store import PolicyStore
from policies.trusted_documents import (
    InvalidDocument,
    UnknownDocument,
    add_document,
    documents_by_partner,
    list_documents,
    remove_document,
)

CHECK = "query Check($spid: String!) {\n  person(spid: $spid) { spid }\n}\n"
SHA = hashlib.sha256(CHECK.encode()).hexdigest()


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    await migrate(database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    for code in ("ngo-cash", "nssf"):
        await create_partner(sessions, code, code, "development_partner")
    yield sessions
    await engine.dispose()


async def current_epoch(sessions: Sessions) -> int:
    async with sessions() as session:
        return await epoch(session)


async def test_a_document_is_kept_as_given_under_its_sha256(sessions: Sessions) -> None:
    before = await current_epoch(sessions)
    document, added = await add_document(sessions, "ngo-cash", CHECK)
    assert added and document.sha256 == SHA and document.document == CHECK
    assert document.name == "Check"  # its operation's name, when none is given
    assert await current_epoch(sessions) == before + 1
    again, added = await add_document(sessions, "ngo-cash", CHECK, name="other name")
    assert not added and again.name == "Check"  # nothing changed, the epoch stays
    assert await current_epoch(sessions) == before + 1
    # The same document for another partner is that partner's own.
    await add_document(sessions, "nssf", CHECK, name="Members")
    assert [d.sha256 for d in await list_documents(sessions, "ngo-cash")] == [SHA]
    assert await documents_by_partner(sessions) == {
        "ngo-cash": {SHA: CHECK},
        "nssf": {SHA: CHECK},
    }


async def test_a_document_must_be_operations_that_parse(sessions: Sessions) -> None:
    for text, says in (
        ("{ person(spid: ", "does not parse"),
        ("type Query { a: Int }", "only operations and fragments"),
        ("fragment F on Person { spid }", "holds no operation"),
        ("{ " + "a " * 60_000 + "}", "at most 100000"),
    ):
        with pytest.raises(InvalidDocument, match=says):
            await add_document(sessions, "ngo-cash", text)
    with pytest.raises(UnknownPartner):
        await add_document(sessions, "nobody", CHECK)
    assert await documents_by_partner(sessions) == {}


async def test_a_document_is_removed_by_its_hash_or_a_unique_prefix(sessions: Sessions) -> None:
    await add_document(sessions, "ngo-cash", CHECK)
    other = "{ people(first: 5) { edges { node { spid } } } }"
    await add_document(sessions, "ngo-cash", other, name="Page")
    before = await current_epoch(sessions)
    with pytest.raises(UnknownDocument, match="no document whose SHA-256 starts with"):
        await remove_document(sessions, "nssf", SHA)
    with pytest.raises(InvalidDocument, match="is not a SHA-256"):
        await remove_document(sessions, "ngo-cash", "abc")
    removed = await remove_document(sessions, "ngo-cash", SHA[:10].upper())
    assert removed.sha256 == SHA
    assert [d.name for d in await list_documents(sessions, "ngo-cash")] == ["Page"]
    assert await current_epoch(sessions) == before + 1


async def test_the_store_holds_the_documents_and_reloads_when_they_change(
    sessions: Sessions,
) -> None:
    schema = build_schema(
        "type Query { person(spid: String!): Person } type Person { spid: String }"
    )
    store = PolicyStore(sessions, Catalogue.of(schema))
    assert (await store.load()).documents == {}
    await add_document(sessions, "ngo-cash", CHECK)
    assert await store.refresh()
    assert store.state.documents == {"ngo-cash": {SHA: CHECK}}
    await remove_document(sessions, "ngo-cash", SHA)
    assert await store.refresh()
    assert store.state.documents == {}
