"""A caller's schema: hidden parts absent from validation and introspection, and what they
leave unusable removed with them."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from graphql import print_schema

from gateway import Gateway, RequestError
from gateway.access import AccessView, Grants
from gateway.schema_view import EmptyView
from tests.gateway.classic import SUBGRAPHS, supergraph_sdl
from tests.gateway.supergraphs import local_graphs, supergraph


@dataclass(frozen=True)
class Fields:
    """A schema filter from a set of visible "Type.field" and "Type.field(arg)" names."""

    visible: frozenset[str]
    hidden_arguments: frozenset[str] = field(default_factory=frozenset)

    def field_visible(self, type_name: str, field_name: str) -> bool:
        return f"{type_name}.{field_name}" in self.visible or f"{type_name}.*" in self.visible

    def argument_visible(self, type_name: str, field_name: str, argument: str) -> bool:
        return f"{type_name}.{field_name}({argument})" not in self.hidden_arguments

    def input_field_visible(self, type_name: str, field_name: str) -> bool:
        return f"{type_name}.{field_name}" not in self.hidden_arguments


def classic() -> Gateway:
    return Gateway.from_sdl(supergraph_sdl({n: f"http://127.0.0.1:1/{n}" for n in SUBGRAPHS}))


def view(*visible: str, hidden: tuple[str, ...] = (), key: str = "v") -> AccessView:
    return AccessView(key=key, filter=Fields(frozenset(visible), frozenset(hidden)))


READER = view("Query.topProducts", "Query.me", "Product.upc", "Product.name", "User.*")


def errors_of(gateway: Gateway, query: str, access: AccessView) -> list[str]:
    with pytest.raises(RequestError) as raised:
        gateway.prepare(query, None, view=access)
    found = getattr(raised.value, "errors", [raised.value])
    return [e.message for e in found]


def test_a_hidden_field_fails_exactly_like_a_field_that_does_not_exist() -> None:
    gateway = classic()
    hidden = errors_of(gateway, "{ topProducts { price } }", READER)
    missing = errors_of(gateway, "{ topProducts { prize } }", READER)
    assert hidden == ["Cannot query field 'price' on type 'Product'."]
    assert missing == ["Cannot query field 'prize' on type 'Product'."]


def test_suggestions_never_name_a_hidden_field() -> None:
    gateway = classic()
    # `weight` is hidden; the open schema would suggest it for `weigh`.
    open_errors = errors_of(gateway, "{ topProducts { weigh } }", AccessView(key=""))
    assert "weight" in open_errors[0]
    assert errors_of(gateway, "{ topProducts { weigh } }", READER) == [
        "Cannot query field 'weigh' on type 'Product'."
    ]


def test_introspection_knows_nothing_of_hidden_fields_and_types() -> None:
    gateway = classic()
    schema = gateway.schema_for(READER)
    assert set(schema.get_type("Product").fields) == {"upc", "name"}  # type: ignore[union-attr]
    # Review is reachable only through hidden fields: gone, so __type(name:) is null.
    assert schema.get_type("Review") is None
    assert "Review" not in print_schema(schema)
    # User.reviews returns the gone type: it goes too.
    assert set(schema.get_type("User").fields) == {"id", "name", "username"}  # type: ignore[union-attr]


def test_a_field_with_a_hidden_required_argument_is_removed() -> None:
    gateway = Gateway.from_sdl(
        supergraph(
            local_graphs("A"),
            """
            type Query @join__type(graph: A) {
              search(name: String!, first: Int = 5): [Item!]!
              item(id: ID!): Item
            }
            type Item @join__type(graph: A) { id: ID! name: String }
            """,
        )
    )
    access = view("Query.*", "Item.*", hidden=("Query.search(name)", "Query.search(first)"))
    query = gateway.schema_for(access).query_type
    assert query is not None
    assert set(query.fields) == {"item"}
    optional = view("Query.*", "Item.*", hidden=("Query.search(first)",), key="w")
    search = gateway.schema_for(optional).query_type.fields["search"]  # type: ignore[union-attr]
    assert set(search.args) == {"name"}


def test_an_interface_offers_only_the_fields_every_implementation_shows() -> None:
    gateway = Gateway.from_sdl(
        supergraph(
            local_graphs("A"),
            """
            type Query @join__type(graph: A) { things: [Thing!]! }
            interface Thing @join__type(graph: A) { id: ID! secret: String }
            type Box implements Thing @join__implements(graph: A, interface: "Thing")
              @join__type(graph: A) { id: ID! secret: String }
            type Bag implements Thing @join__implements(graph: A, interface: "Thing")
              @join__type(graph: A) { id: ID! secret: String }
            """,
        )
    )
    access = view("Query.things", "Thing.id", "Thing.secret", "Box.id", "Box.secret", "Bag.id")
    schema = gateway.schema_for(access)
    assert set(schema.get_type("Thing").fields) == {"id"}  # type: ignore[union-attr]
    assert set(schema.get_type("Box").fields) == {"id", "secret"}  # type: ignore[union-attr]
    assert {t.name for t in schema.get_possible_types(schema.get_type("Thing"))} == {"Box", "Bag"}  # type: ignore[arg-type]


def test_a_view_that_leaves_no_query_field_is_refused() -> None:
    with pytest.raises(EmptyView):
        classic().schema_for(view("Product.upc"))


def test_views_are_cached_by_key() -> None:
    gateway = classic()
    assert gateway.schema_for(READER) is gateway.schema_for(READER)
    assert gateway.schema_for(AccessView(key="")) is gateway.api_schema


AUTHZ = """
type Query @join__type(graph: A) {
  public: String
  members: String @authenticated
  ledger: Ledger @requiresScopes(scopes: [["read:ledger"], ["admin"]])
  audit: String @policy(policies: [["auditor", "on-duty"]])
}
type Ledger @join__type(graph: A) @requiresScopes(scopes: [["read:ledger"]]) { total: Int }
scalar requiresScopes__Scope
scalar policy__Policy
directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
directive @policy(policies: [[policy__Policy!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
"""
LINKS = (
    '  @link(url: "https://specs.apollo.dev/authenticated/v0.1", import: ["@authenticated"], for: SECURITY)\n'
    '  @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", import: ["@requiresScopes"], for: SECURITY)\n'
    '  @link(url: "https://specs.apollo.dev/policy/v0.1", import: ["@policy"], for: SECURITY)\n'
)


def authz() -> Gateway:
    return Gateway.from_sdl(supergraph(local_graphs("A"), AUTHZ, extra_links=LINKS))


def fields_with(grants: Grants | None, key: str) -> set[str]:
    schema = authz().schema_for(AccessView(key=key, grants=grants))
    return set(schema.query_type.fields)  # type: ignore[union-attr]


def test_apollo_authorization_directives_are_honoured_with_the_grants_given() -> None:
    assert fields_with(Grants(authenticated=False), "anonymous") == {"public"}
    assert fields_with(Grants(authenticated=True), "member") == {"public", "members"}
    assert fields_with(Grants(True, scopes=frozenset({"admin"})), "admin") == {
        "public",
        "members",  # the field needs admin or read:ledger; its type needs read:ledger
    }
    assert fields_with(Grants(True, scopes=frozenset({"read:ledger"})), "reader") == {
        "public",
        "members",
        "ledger",
    }
    assert fields_with(Grants(True, policies=frozenset({"auditor"})), "half") == {
        "public",
        "members",
    }
    assert fields_with(Grants(True, policies=frozenset({"auditor", "on-duty"})), "both") == {
        "public",
        "members",
        "audit",
    }


def test_authorization_directives_are_not_in_the_api_schema_and_open_mode_ignores_them() -> None:
    gateway = authz()
    printed = print_schema(gateway.api_schema)
    assert "@requiresScopes" not in printed and "requiresScopes__Scope" not in printed
    assert set(gateway.api_schema.query_type.fields) == {"public", "members", "ledger", "audit"}  # type: ignore[union-attr]


UNION = """
type Query @join__type(graph: A) { search: [Result!]! }
union Result @join__type(graph: A) @join__unionMember(graph: A, member: "Open")
  @join__unionMember(graph: A, member: "Secret") = Open | Secret
type Open @join__type(graph: A) { id: ID! }
type Secret @join__type(graph: A) { id: ID! code: String }
"""


def test_a_hidden_union_member_is_gone_from_fragments_and_introspection() -> None:
    gateway = Gateway.from_sdl(supergraph(local_graphs("A"), UNION))
    access = view("Query.search", "Open.id")
    schema = gateway.schema_for(access)
    result = schema.get_type("Result")
    assert {t.name for t in schema.get_possible_types(result)} == {"Open"}  # type: ignore[arg-type]
    assert schema.get_type("Secret") is None
    for query in (
        "{ search { ... on Secret { code } } }",
        "{ search { ...S } } fragment S on Secret { id }",
    ):
        assert errors_of(gateway, query, access) == ["Unknown type 'Secret'."]
    named = "{ search { ...O } } fragment O on Open { id }"
    assert gateway.prepare(named, None, view=access) is not None
