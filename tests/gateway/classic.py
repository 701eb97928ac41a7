"""The classic four federation subgraphs (accounts, products, inventory, reviews) in strawberry.

Static data; used by the gateway's end-to-end tests and its benchmark.
"""

from __future__ import annotations

import strawberry

USERS = {
    "1": {"id": "1", "name": "Ada Lovelace", "username": "@ada"},
    "2": {"id": "2", "name": "Alan Turing", "username": "@complete"},
}
PRODUCTS = {
    "1": {"upc": "1", "name": "Table", "price": 899, "weight": 100},
    "2": {"upc": "2", "name": "Couch", "price": 1299, "weight": 1000},
    "3": {"upc": "3", "name": "Chair", "price": 54, "weight": 50},
}
IN_STOCK = {"1": True, "2": False, "3": True}
REVIEWS = [
    {"id": "1", "author": "1", "product": "1", "body": "Love it!"},
    {"id": "2", "author": "1", "product": "2", "body": "Too expensive."},
    {"id": "3", "author": "2", "product": "3", "body": "Could be better."},
    {"id": "4", "author": "2", "product": "1", "body": "Prefer something else."},
]


def _schema(query: type | None, types: list[type]) -> strawberry.federation.Schema:
    return strawberry.federation.Schema(query=query, types=types)


# -- accounts ---------------------------------------------------------------------------


@strawberry.federation.type(keys=["id"], name="User")
class AccountsUser:
    id: strawberry.ID
    name: str | None
    # shareable: the reviews subgraph @provides it
    username: str | None = strawberry.federation.field(shareable=True)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> AccountsUser | None:
        row = USERS.get(str(id))
        return cls.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: dict[str, str]) -> AccountsUser:
        return cls(id=strawberry.ID(row["id"]), name=row["name"], username=row["username"])


@strawberry.type(name="Query")
class AccountsQuery:
    @strawberry.field
    def me(self) -> AccountsUser | None:
        return AccountsUser.from_row(USERS["1"])

    @strawberry.field
    def users(self) -> list[AccountsUser]:
        return [AccountsUser.from_row(u) for u in USERS.values()]


accounts = _schema(AccountsQuery, [AccountsUser])


# -- products ---------------------------------------------------------------------------


@strawberry.federation.type(keys=["upc"], name="Product")
class ProductsProduct:
    upc: str
    name: str | None
    price: int | None
    weight: int | None

    @classmethod
    def resolve_reference(cls, upc: str) -> ProductsProduct | None:
        row = PRODUCTS.get(upc)
        return cls.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: dict[str, object]) -> ProductsProduct:
        return cls(**row)  # type: ignore[arg-type]


@strawberry.type(name="Query")
class ProductsQuery:
    @strawberry.field
    def top_products(self, first: int = 5) -> list[ProductsProduct]:
        return [ProductsProduct.from_row(p) for p in list(PRODUCTS.values())[:first]]


products = _schema(ProductsQuery, [ProductsProduct])


# -- inventory --------------------------------------------------------------------------


@strawberry.federation.type(keys=["upc"], name="Product")
class InventoryProduct:
    upc: str
    price: int | None = strawberry.federation.field(external=True, default=None)
    weight: int | None = strawberry.federation.field(external=True, default=None)

    @strawberry.field
    def in_stock(self) -> bool | None:
        return IN_STOCK.get(self.upc)

    @strawberry.federation.field(requires=["price", "weight"])
    def shipping_estimate(self) -> int | None:
        if self.price is None or self.weight is None:
            return None
        # free for expensive items, otherwise estimate based on weight
        return 0 if self.price > 1000 else self.weight // 2

    @classmethod
    def resolve_reference(
        cls, upc: str, price: int | None = None, weight: int | None = None
    ) -> InventoryProduct:
        return cls(upc=upc, price=price, weight=weight)


inventory = _schema(None, [InventoryProduct])


# -- reviews ----------------------------------------------------------------------------


@strawberry.federation.type(keys=["id"], name="User")
class ReviewsUser:
    id: strawberry.ID
    username: str | None = strawberry.federation.field(external=True, default=None)

    @strawberry.field
    def reviews(self) -> list[Review]:
        return [Review.from_row(r) for r in REVIEWS if r["author"] == str(self.id)]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> ReviewsUser:
        return cls(id=id)


@strawberry.federation.type(keys=["upc"], name="Product")
class ReviewsProduct:
    upc: str

    @strawberry.field
    def reviews(self) -> list[Review]:
        return [Review.from_row(r) for r in REVIEWS if r["product"] == self.upc]

    @classmethod
    def resolve_reference(cls, upc: str) -> ReviewsProduct:
        return cls(upc=upc)


@strawberry.type
class Review:
    id: strawberry.ID
    body: str | None
    author_id: strawberry.Private[str]
    product_upc: strawberry.Private[str]

    @strawberry.federation.field(provides=["username"])
    def author(self) -> ReviewsUser | None:
        row = USERS.get(self.author_id)
        return (
            ReviewsUser(id=strawberry.ID(self.author_id), username=row["username"]) if row else None
        )

    @strawberry.field
    def product(self) -> ReviewsProduct | None:
        return ReviewsProduct(upc=self.product_upc)

    @classmethod
    def from_row(cls, row: dict[str, str]) -> Review:
        return cls(
            id=strawberry.ID(row["id"]),
            body=row["body"],
            author_id=row["author"],
            product_upc=row["product"],
        )


reviews = _schema(None, [ReviewsUser, ReviewsProduct, Review])

SUBGRAPHS = {"accounts": accounts, "products": products, "inventory": inventory, "reviews": reviews}


JOIN_DEFINITIONS = """
directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
scalar join__FieldSet
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
"""


def supergraph_sdl(urls: dict[str, str]) -> str:
    """The classic supergraph, as Apollo's composition writes it, routed to ``urls``."""
    return (
        """
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
{
  query: Query
}
"""
        + JOIN_DEFINITIONS
        + f"""
enum join__Graph {{
  ACCOUNTS @join__graph(name: "accounts", url: "{urls["accounts"]}")
  INVENTORY @join__graph(name: "inventory", url: "{urls["inventory"]}")
  PRODUCTS @join__graph(name: "products", url: "{urls["products"]}")
  REVIEWS @join__graph(name: "reviews", url: "{urls["reviews"]}")
}}
"""
        + """
type Product
  @join__type(graph: INVENTORY, key: "upc")
  @join__type(graph: PRODUCTS, key: "upc")
  @join__type(graph: REVIEWS, key: "upc")
{
  upc: String!
  weight: Int @join__field(graph: INVENTORY, external: true) @join__field(graph: PRODUCTS)
  price: Int @join__field(graph: INVENTORY, external: true) @join__field(graph: PRODUCTS)
  inStock: Boolean @join__field(graph: INVENTORY)
  shippingEstimate: Int @join__field(graph: INVENTORY, requires: "price weight")
  name: String @join__field(graph: PRODUCTS)
  reviews: [Review!]! @join__field(graph: REVIEWS)
}

type Query
  @join__type(graph: ACCOUNTS)
  @join__type(graph: INVENTORY)
  @join__type(graph: PRODUCTS)
  @join__type(graph: REVIEWS)
{
  me: User @join__field(graph: ACCOUNTS)
  users: [User!]! @join__field(graph: ACCOUNTS)
  topProducts(first: Int! = 5): [Product!]! @join__field(graph: PRODUCTS)
}

type Review @join__type(graph: REVIEWS) {
  id: ID!
  body: String
  author: User @join__field(graph: REVIEWS, provides: "username")
  product: Product
}

type User
  @join__type(graph: ACCOUNTS, key: "id")
  @join__type(graph: REVIEWS, key: "id")
{
  id: ID!
  name: String @join__field(graph: ACCOUNTS)
  username: String @join__field(graph: ACCOUNTS) @join__field(graph: REVIEWS, external: true)
  reviews: [Review!]! @join__field(graph: REVIEWS)
}
"""
    )
