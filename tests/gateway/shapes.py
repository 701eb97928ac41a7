"""Subgraphs exercising keys, sharing, override and abstract types across subgraphs.

- ``catalog`` owns ``Book`` and ``Film`` (both ``Node``), the ``Item`` union and an
  ``Account`` with two keys (``id``, and the composite nested ``number org { id }``).
- ``stock`` adds ``Book.stock``, ``Account.balance`` (reached by the composite key) and a
  shareable ``Book.title``; it also took ``Film.rating`` over from catalog (@override).
- ``refs`` can only point at accounts (``resolvable: false``).
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.composition import SubgraphSource, compose

BOOKS = {"b1": "Dune", "b2": "Emma"}
FILMS = {"f1": "Alien"}
ACCOUNTS = {"a1": (7, "o1")}


@strawberry.federation.interface(name="Node")
class Node:
    id: strawberry.ID


@strawberry.federation.type(keys=["id"], name="Book")
class CatalogBook(Node):
    title: str = strawberry.federation.field(shareable=True)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> CatalogBook:
        return cls(id=id, title=BOOKS[str(id)])


@strawberry.federation.type(keys=["id"], name="Film")
class CatalogFilm(Node):
    title: str
    rating: int = strawberry.federation.field(default=1)  # overridden by stock

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> CatalogFilm:
        return cls(id=id, title=FILMS[str(id)])


Item = Annotated[CatalogBook | CatalogFilm, strawberry.union("Item")]


@strawberry.federation.type(keys=["id"], name="Org")
class CatalogOrg:
    id: strawberry.ID


@strawberry.federation.type(keys=["id", "number org { id }"], name="Account")
class CatalogAccount:
    id: strawberry.ID
    number: int
    org: CatalogOrg

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> CatalogAccount:
        number, org = ACCOUNTS[str(id)]
        return cls(id=id, number=number, org=CatalogOrg(id=strawberry.ID(org)))


@strawberry.type
class CatalogQuery:
    @strawberry.field
    def nodes(self) -> list[Node]:
        return [
            CatalogBook.resolve_reference(strawberry.ID("b1")),
            CatalogFilm.resolve_reference(strawberry.ID("f1")),
        ]

    @strawberry.field
    def items(self) -> list[Item]:
        return [
            CatalogFilm.resolve_reference(strawberry.ID("f1")),
            CatalogBook.resolve_reference(strawberry.ID("b2")),
        ]

    @strawberry.field
    def account(self) -> CatalogAccount:
        return CatalogAccount.resolve_reference(strawberry.ID("a1"))


catalog = strawberry.federation.Schema(
    query=CatalogQuery, types=[CatalogBook, CatalogFilm, CatalogAccount]
)


@strawberry.federation.type(keys=["id"], name="Book")
class StockBook:
    id: strawberry.ID
    title: str = strawberry.federation.field(shareable=True)

    @strawberry.field
    def stock(self) -> int:
        return len(BOOKS[str(self.id)])

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> StockBook:
        return cls(id=id, title=BOOKS[str(id)])


@strawberry.federation.type(keys=["id"], name="Film")
class StockFilm:
    id: strawberry.ID

    @strawberry.federation.field(override="catalog")
    def rating(self) -> int:
        return 5

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> StockFilm:
        return cls(id=id)


@strawberry.federation.type(keys=["id"], name="Org")
class StockOrg:
    id: strawberry.ID


@strawberry.federation.type(keys=["number org { id }"], name="Account")
class StockAccount:
    number: int
    org: StockOrg

    @strawberry.field
    def balance(self) -> int:
        return self.number * 100

    @classmethod
    def resolve_reference(cls, number: int, org: dict[str, str]) -> StockAccount:
        return cls(number=number, org=StockOrg(id=strawberry.ID(org["id"])))


@strawberry.type
class StockQuery:
    @strawberry.field
    def bestseller(self) -> StockBook:
        return StockBook.resolve_reference(strawberry.ID("b2"))


stock = strawberry.federation.Schema(query=StockQuery, types=[StockBook, StockFilm, StockAccount])


@strawberry.federation.type(
    keys=[strawberry.federation.schema_directives.Key(fields="id", resolvable=False)],
    name="Account",
)  # type: ignore[list-item]
class RefsAccount:
    id: strawberry.ID


@strawberry.type
class RefsQuery:
    @strawberry.field
    def pinned(self) -> RefsAccount:
        return RefsAccount(id=strawberry.ID("a1"))


refs = strawberry.federation.Schema(query=RefsQuery, types=[RefsAccount])

SUBGRAPHS = {"catalog": catalog, "stock": stock, "refs": refs}


def supergraph_sdl(urls: dict[str, str]) -> str:
    """The supergraph Tonle's own composition builds from the three subgraphs' SDL."""
    return compose(
        [SubgraphSource(name, urls[name], schema.as_str()) for name, schema in SUBGRAPHS.items()]
    )
