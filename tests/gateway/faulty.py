"""Two subgraphs where one fails in the ways real ones do, for error-handling tests."""

from __future__ import annotations

import strawberry

from tests.gateway.supergraphs import supergraph


@strawberry.federation.type(keys=["id"], name="Item")
class ItemA:
    id: strawberry.ID
    name: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> ItemA:
        return cls(id=id, name=f"item {id}")


@strawberry.type
class QueryA:
    @strawberry.field
    def items(self) -> list[ItemA | None]:
        return [ItemA(id=strawberry.ID(str(i)), name=f"item {i}") for i in (1, 2, 3)]


class RiskyFailed(Exception):
    pass


@strawberry.federation.type(keys=["id"], name="Item")
class ItemB:
    id: strawberry.ID

    @strawberry.field
    def risky(self) -> str | None:
        if self.id == "2":
            raise RiskyFailed("risky failed for this item")
        return f"ok {self.id}"

    @strawberry.field
    def strict(self) -> str:
        return None if self.id == "3" else f"strict {self.id}"  # type: ignore[return-value]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> ItemB:
        return cls(id=id)


a = strawberry.federation.Schema(query=QueryA, types=[ItemA])
b = strawberry.federation.Schema(types=[ItemB])
SUBGRAPHS = {"a": a, "b": b}


def supergraph_sdl(urls: dict[str, str]) -> str:
    return supergraph(
        {"A": urls["a"], "B": urls["b"]},
        """
type Item @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") {
  id: ID!
  name: String! @join__field(graph: A)
  risky: String @join__field(graph: B)
  strict: String! @join__field(graph: B)
}

type Query @join__type(graph: A) @join__type(graph: B) {
  items: [Item]! @join__field(graph: A)
}
""",
    )
