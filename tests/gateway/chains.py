"""Three subgraphs with a @requires chain, nested lists of entities, and mutations."""

from __future__ import annotations

import strawberry

from tests.gateway.supergraphs import supergraph

PRICES = {"1": 100, "2": 250, "3": 40}
LOG: list[str] = []


@strawberry.federation.type(keys=["id"], name="Product")
class ProductP:
    id: strawberry.ID
    price: int

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> ProductP:
        return cls(id=id, price=PRICES[str(id)])


@strawberry.type
class QueryP:
    @strawberry.field
    def shelves(self) -> list[list[ProductP | None]]:
        return [
            [ProductP.resolve_reference(strawberry.ID("1")), None],
            [ProductP.resolve_reference(strawberry.ID(i)) for i in ("2", "3")],
        ]


@strawberry.type
class MutationP:
    @strawberry.mutation
    def log_p(self, text: str) -> int:
        LOG.append(f"p:{text}")
        return len(LOG)


@strawberry.federation.type(keys=["id"], name="Product")
class ProductQ:
    id: strawberry.ID
    price: int | None = strawberry.federation.field(external=True, default=None)

    @strawberry.federation.field(requires=["price"])
    def tax(self) -> int:
        return (self.price or 0) // 10

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, price: int | None = None) -> ProductQ:
        return cls(id=id, price=price)


@strawberry.type
class MutationQ:
    @strawberry.mutation
    def log_q(self, text: str) -> int:
        LOG.append(f"q:{text}")
        return len(LOG)


@strawberry.type
class QueryQ:
    @strawberry.field
    def log(self) -> list[str]:
        return list(LOG)


@strawberry.federation.type(keys=["id"], name="Product")
class ProductR:
    id: strawberry.ID
    tax: int | None = strawberry.federation.field(external=True, default=None)
    price: int | None = strawberry.federation.field(external=True, default=None)

    @strawberry.federation.field(requires=["price", "tax"])
    def total(self) -> int:
        return (self.price or 0) + (self.tax or 0)

    @classmethod
    def resolve_reference(
        cls, id: strawberry.ID, price: int | None = None, tax: int | None = None
    ) -> ProductR:
        return cls(id=id, price=price, tax=tax)


SUBGRAPHS = {
    "p": strawberry.federation.Schema(query=QueryP, mutation=MutationP, types=[ProductP]),
    "q": strawberry.federation.Schema(query=QueryQ, mutation=MutationQ, types=[ProductQ]),
    "r": strawberry.federation.Schema(types=[ProductR]),
}


def supergraph_sdl(urls: dict[str, str]) -> str:
    return supergraph(
        {"P": urls["p"], "Q": urls["q"], "R": urls["r"]},
        """
type Product
  @join__type(graph: P, key: "id")
  @join__type(graph: Q, key: "id")
  @join__type(graph: R, key: "id")
{
  id: ID!
  price: Int! @join__field(graph: P) @join__field(graph: Q, external: true) @join__field(graph: R, external: true)
  tax: Int! @join__field(graph: Q, requires: "price") @join__field(graph: R, external: true)
  total: Int! @join__field(graph: R, requires: "price tax")
}

type Query @join__type(graph: P) @join__type(graph: Q) @join__type(graph: R) {
  shelves: [[Product]!]! @join__field(graph: P)
  log: [String!]! @join__field(graph: Q)
}

type Mutation @join__type(graph: P) @join__type(graph: Q) {
  logP(text: String!): Int! @join__field(graph: P)
  logQ(text: String!): Int! @join__field(graph: Q)
}
""",
    )
