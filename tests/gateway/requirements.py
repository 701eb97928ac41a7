"""Two subgraphs whose @requires need more than plain fields.

- ``survey`` owns ``Household``: its size, its monthly income in a currency of the
  caller's choice, and its dwelling, a ``Dwelling`` interface whose ``Boat`` member (a
  floating house on the Tonle Sap) the supergraph keeps @inaccessible.
- ``benefits`` computes a cash transfer per person in riel and in dollars (the same
  field, ``income``, required with two different arguments) and a repair grant that
  needs a field of each kind of dwelling (``@requires`` with type conditions).
"""

from __future__ import annotations

from typing import Any

import strawberry

from tests.gateway.supergraphs import supergraph

RIELS_PER_DOLLAR = 4000


@strawberry.interface(name="Dwelling")
class Dwelling:
    material: str


@strawberry.type(name="House")
class House(Dwelling):
    rooms: int


@strawberry.type(name="Boat")
class Boat(Dwelling):
    moorings: int


@strawberry.federation.type(keys=["id"], name="Household")
class SurveyHousehold:
    id: strawberry.ID
    size: int
    dwelling: Dwelling | None
    monthly_usd: strawberry.Private[int]

    @strawberry.field
    def income(self, currency: str) -> int:
        if currency == "KHR":
            return self.monthly_usd * RIELS_PER_DOLLAR
        if currency == "USD":
            return self.monthly_usd
        raise ValueError(f"no rate for {currency}")

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> SurveyHousehold:
        return HOUSEHOLDS[str(id)]


HOUSEHOLDS = {
    "h1": SurveyHousehold(
        id=strawberry.ID("h1"), size=3, dwelling=House(material="brick", rooms=3), monthly_usd=150
    ),
    "h2": SurveyHousehold(
        id=strawberry.ID("h2"),
        size=2,
        dwelling=Boat(material="bamboo", moorings=2),
        monthly_usd=90,
    ),
}


@strawberry.type
class SurveyQuery:
    @strawberry.field
    def households(self) -> list[SurveyHousehold]:
        return list(HOUSEHOLDS.values())


@strawberry.federation.type(keys=["id"], name="Household")
class BenefitsHousehold:
    id: strawberry.ID
    # what the representation carried, as sent: the resolvers fail on anything missing
    sent: strawberry.Private[dict[str, Any]]

    @strawberry.field
    def cash_transfer_khr(self) -> int:
        return int(self.sent["income"]) // int(self.sent["size"])

    @strawberry.field
    def cash_transfer_usd(self) -> int:
        return int(self.sent["income"]) // int(self.sent["size"])

    @strawberry.field
    def repair_grant(self) -> str:
        dwelling = self.sent["dwelling"]
        if dwelling["__typename"] == "House":
            return f"{dwelling['material']}, {dwelling['rooms']} rooms"
        return f"{dwelling['material']}, {dwelling['moorings']} moorings"

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **sent: Any) -> BenefitsHousehold:
        return cls(id=id, sent=sent)


SUBGRAPHS = {
    "survey": strawberry.federation.Schema(query=SurveyQuery, types=[SurveyHousehold, House, Boat]),
    "benefits": strawberry.federation.Schema(types=[BenefitsHousehold]),
}


def supergraph_sdl(urls: dict[str, str]) -> str:
    return supergraph(
        {"SURVEY": urls["survey"], "BENEFITS": urls["benefits"]},
        '''
interface Dwelling @join__type(graph: SURVEY) {
  material: String!
}

type House implements Dwelling
  @join__type(graph: SURVEY)
  @join__implements(graph: SURVEY, interface: "Dwelling")
{
  material: String!
  rooms: Int!
}

type Boat implements Dwelling
  @join__type(graph: SURVEY)
  @join__implements(graph: SURVEY, interface: "Dwelling")
  @inaccessible
{
  material: String!
  moorings: Int!
}

type Household
  @join__type(graph: SURVEY, key: "id")
  @join__type(graph: BENEFITS, key: "id")
{
  id: ID!
  size: Int! @join__field(graph: SURVEY) @join__field(graph: BENEFITS, external: true)
  income(currency: String!): Int! @join__field(graph: SURVEY) @join__field(graph: BENEFITS, external: true)
  dwelling: Dwelling @join__field(graph: SURVEY) @join__field(graph: BENEFITS, external: true)
  cashTransferKhr: Int! @join__field(graph: BENEFITS, requires: "income(currency: \\"KHR\\") size")
  cashTransferUsd: Int! @join__field(graph: BENEFITS, requires: "income(currency: \\"USD\\") size")
  repairGrant: String! @join__field(graph: BENEFITS, requires: """
    dwelling { material ... on House { rooms } ... on Boat { moorings } }
  """)
}

type Query @join__type(graph: SURVEY) @join__type(graph: BENEFITS) {
  households: [Household!]! @join__field(graph: SURVEY)
}

directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
''',
        extra_links='  @link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)\n',
    )
