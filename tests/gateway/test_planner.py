"""Planner tests in the style of Apollo's: inline supergraph, a query, the printed plan."""

from __future__ import annotations

import textwrap

import pytest
from graphql import parse

from gateway import Gateway, PlanningError, print_plan
from gateway.access import AccessView
from tests.gateway.supergraphs import local_graphs, supergraph


def plan_of(sdl: str, query: str, operation_name: str | None = None) -> str:
    gateway = Gateway.from_sdl(sdl)
    return print_plan(gateway.prepare(query, operation_name).plan)


def expect(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


ENTITY_JUMP = supergraph(
    local_graphs("IDENTITY", "IDPOOR"),
    """
type Person
  @join__type(graph: IDENTITY, key: "spid")
  @join__type(graph: IDPOOR, key: "spid")
{
  spid: String!
  familyName: String! @join__field(graph: IDENTITY)
  idpoor: IdPoorStatus @join__field(graph: IDPOOR)
}

type IdPoorStatus @join__type(graph: IDPOOR) {
  level: Int!
}

type Query @join__type(graph: IDENTITY) @join__type(graph: IDPOOR) {
  people(villageCode: String!): [Person!]! @join__field(graph: IDENTITY)
  person(spid: String!): Person @join__field(graph: IDENTITY)
  povertyLevels: [Int!]! @join__field(graph: IDPOOR)
}
""",
)


def test_single_subgraph_query_is_one_fetch() -> None:
    assert plan_of(ENTITY_JUMP, '{ person(spid: "1") { spid familyName } }') == expect(
        """
        QueryPlan {
          Fetch(service: "identity") {
            query Operation__identity__0 {
              person(spid: "1") {
                spid
                familyName
              }
            }
          }
        }
        """
    )


def test_entity_jump_over_a_list_flattens_at_each_item() -> None:
    query = "query Village($v: String!) { people(villageCode: $v) { familyName idpoor { level } } }"
    assert plan_of(ENTITY_JUMP, query) == expect(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "identity") {
              query Village__identity__0($v: String!) {
                people(villageCode: $v) {
                  familyName
                  __typename
                  spid
                }
              }
            },
            Flatten(path: "people.@") {
              Fetch(service: "idpoor") {
                {
                  ... on Person {
                    __typename
                    spid
                  }
                } =>
                query Village__idpoor__1($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Person {
                      idpoor {
                        level
                      }
                    }
                  }
                }
              }
            }
          }
        }
        """
    )


def test_root_fields_of_two_subgraphs_run_in_parallel() -> None:
    assert plan_of(ENTITY_JUMP, '{ povertyLevels person(spid: "1") { spid } }') == expect(
        """
        QueryPlan {
          Parallel {
            Fetch(service: "idpoor") {
              query Operation__idpoor__0 {
                povertyLevels
              }
            },
            Fetch(service: "identity") {
              query Operation__identity__1 {
                person(spid: "1") {
                  spid
                }
              }
            }
          }
        }
        """
    )


def test_only_typename_needs_no_fetch() -> None:
    assert plan_of(ENTITY_JUMP, "{ __typename }") == "QueryPlan {\n}"


def test_only_the_variables_a_fetch_uses_are_declared() -> None:
    query = """
    query Q($v: String!, $s: String!) {
      people(villageCode: $v) { spid }
      povertyLevels
      person(spid: $s) { familyName }
    }
    """
    plan = plan_of(ENTITY_JUMP, query)
    assert "query Q__identity__0($v: String!, $s: String!)" in plan
    assert "query Q__idpoor__1 {" in plan


MUTATIONS = supergraph(
    local_graphs("A", "B"),
    """
type Query @join__type(graph: A) @join__type(graph: B) {
  a: Int @join__field(graph: A)
}

type Mutation @join__type(graph: A) @join__type(graph: B) {
  addA(n: Int!): Int @join__field(graph: A)
  addB(n: Int!): Int @join__field(graph: B)
}
""",
)


def test_mutations_run_in_order_and_consecutive_ones_share_a_fetch() -> None:
    plan = plan_of(
        MUTATIONS, "mutation { one: addA(n: 1) two: addA(n: 2) addB(n: 3) three: addA(n: 4) }"
    )
    assert plan == expect(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "a") {
              mutation Operation__a__0 {
                one: addA(n: 1)
                two: addA(n: 2)
              }
            },
            Fetch(service: "b") {
              mutation Operation__b__1 {
                addB(n: 3)
              }
            },
            Fetch(service: "a") {
              mutation Operation__a__2 {
                three: addA(n: 4)
              }
            }
          }
        }
        """
    )


REQUIRES = supergraph(
    local_graphs("PRODUCTS", "INVENTORY"),
    """
type Product
  @join__type(graph: INVENTORY, key: "upc")
  @join__type(graph: PRODUCTS, key: "upc")
{
  upc: String!
  price: Int @join__field(graph: INVENTORY, external: true) @join__field(graph: PRODUCTS)
  weight: Int @join__field(graph: INVENTORY, external: true) @join__field(graph: PRODUCTS)
  shippingEstimate: Int @join__field(graph: INVENTORY, requires: "price weight")
  name: String @join__field(graph: PRODUCTS)
}

type Query @join__type(graph: INVENTORY) @join__type(graph: PRODUCTS) {
  topProducts: [Product!]! @join__field(graph: PRODUCTS)
}
""",
)


def test_requires_sends_the_required_fields_in_the_representation() -> None:
    assert plan_of(REQUIRES, "{ topProducts { name shippingEstimate } }") == expect(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              query Operation__products__0 {
                topProducts {
                  name
                  __typename
                  upc
                  price
                  weight
                }
              }
            },
            Flatten(path: "topProducts.@") {
              Fetch(service: "inventory") {
                {
                  ... on Product {
                    __typename
                    upc
                    price
                    weight
                  }
                } =>
                query Operation__inventory__1($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Product {
                      shippingEstimate
                    }
                  }
                }
              }
            }
          }
        }
        """
    )


def test_a_client_alias_that_shadows_a_key_field_does_not_corrupt_the_representation() -> None:
    plan = plan_of(REQUIRES, "{ topProducts { upc: name shippingEstimate } }")
    assert "upc: name" in plan
    assert "__tonle_upc: upc" in plan


PROVIDES = supergraph(
    local_graphs("ACCOUNTS", "REVIEWS"),
    """
type User
  @join__type(graph: ACCOUNTS, key: "id")
  @join__type(graph: REVIEWS, key: "id")
{
  id: ID!
  name: String @join__field(graph: ACCOUNTS)
  username: String @join__field(graph: ACCOUNTS) @join__field(graph: REVIEWS, external: true)
}

type Review @join__type(graph: REVIEWS) {
  body: String
  author: User @join__field(graph: REVIEWS, provides: "username")
  editor: User @join__field(graph: REVIEWS)
}

type Query @join__type(graph: ACCOUNTS) @join__type(graph: REVIEWS) {
  reviews: [Review] @join__field(graph: REVIEWS)
}
""",
)


def test_provided_fields_are_taken_from_the_providing_subgraph() -> None:
    assert plan_of(PROVIDES, "{ reviews { author { username } } }") == expect(
        """
        QueryPlan {
          Fetch(service: "reviews") {
            query Operation__reviews__0 {
              reviews {
                author {
                  username
                }
              }
            }
          }
        }
        """
    )


def test_a_field_provided_on_one_path_only_still_jumps_on_another() -> None:
    plan = plan_of(PROVIDES, "{ reviews { editor { username } } }")
    assert 'Flatten(path: "reviews.@.editor")' in plan
    assert 'Fetch(service: "accounts")' in plan


SHAREABLE = supergraph(
    local_graphs("A", "B"),
    """
type Thing @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") {
  id: ID!
  label: String
  onlyB: String @join__field(graph: B)
}

type Query @join__type(graph: A) @join__type(graph: B) {
  thingA: Thing @join__field(graph: A)
  thingB: Thing @join__field(graph: B)
}
""",
)


def test_a_shareable_field_is_taken_from_the_subgraph_already_in_use() -> None:
    assert plan_of(SHAREABLE, "{ thingB { label onlyB } }") == expect(
        """
        QueryPlan {
          Fetch(service: "b") {
            query Operation__b__0 {
              thingB {
                label
                onlyB
              }
            }
          }
        }
        """
    )
    assert 'Fetch(service: "b")' not in plan_of(SHAREABLE, "{ thingA { label } }")


KEYS = supergraph(
    local_graphs("A", "B", "C"),
    """
type Org @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") {
  id: ID!
}

type Account
  @join__type(graph: A, key: "id")
  @join__type(graph: A, key: "number org { id }")
  @join__type(graph: B, key: "number org { id }")
  @join__type(graph: C, key: "id", resolvable: false)
{
  id: ID! @join__field(graph: A) @join__field(graph: C)
  number: Int! @join__field(graph: A) @join__field(graph: B)
  org: Org! @join__field(graph: A) @join__field(graph: B)
  balance: Int @join__field(graph: B)
  note: String @join__field(graph: C)
}

type Query @join__type(graph: A) @join__type(graph: B) @join__type(graph: C) {
  account: Account @join__field(graph: A)
  cAccount: Account @join__field(graph: C)
}
""",
)


def test_a_composite_nested_key_is_sent_whole() -> None:
    assert plan_of(KEYS, "{ account { balance } }") == expect(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "a") {
              query Operation__a__0 {
                account {
                  __typename
                  number
                  org {
                    id
                  }
                }
              }
            },
            Flatten(path: "account") {
              Fetch(service: "b") {
                {
                  ... on Account {
                    __typename
                    number
                    org {
                      id
                    }
                  }
                } =>
                query Operation__b__1($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Account {
                      balance
                    }
                  }
                }
              }
            }
          }
        }
        """
    )


def test_an_unresolvable_key_lets_a_subgraph_point_to_an_entity_but_not_resolve_it() -> None:
    # C can give the id (its key is resolvable: false) and A resolves the rest.
    plan = plan_of(KEYS, "{ cAccount { number } }")
    assert 'Flatten(path: "cAccount")' in plan
    assert 'Fetch(service: "a")' in plan
    with pytest.raises(PlanningError, match=r"Account\.note"):
        plan_of(KEYS, "{ account { note } }")


SHAPES = supergraph(
    local_graphs("A", "B"),
    """
interface Node @join__type(graph: A) @join__type(graph: B) {
  id: ID!
}

type Book implements Node
  @join__implements(graph: A, interface: "Node")
  @join__type(graph: A, key: "id")
  @join__type(graph: B, key: "id")
{
  id: ID!
  title: String @join__field(graph: A)
  stock: Int @join__field(graph: B)
}

type Film implements Node
  @join__implements(graph: A, interface: "Node")
  @join__type(graph: A, key: "id")
{
  id: ID!
  title: String
}

union Item @join__type(graph: A) @join__unionMember(graph: A, member: "Book") @join__unionMember(graph: A, member: "Film") = Book | Film

type Query @join__type(graph: A) @join__type(graph: B) {
  nodes: [Node] @join__field(graph: A)
  items: [Item] @join__field(graph: A)
}
""",
)


def test_interface_fields_are_planned_per_runtime_type() -> None:
    plan = plan_of(SHAPES, "{ nodes { id ... on Book { stock } } }")
    assert plan == expect(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "a") {
              query Operation__a__0 {
                nodes {
                  __typename
                  ... on Book {
                    id
                    __typename
                  }
                  ... on Film {
                    id
                  }
                }
              }
            },
            Flatten(path: "nodes.@") {
              Fetch(service: "b") {
                {
                  ... on Book {
                    __typename
                    id
                  }
                } =>
                query Operation__b__1($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Book {
                      stock
                    }
                  }
                }
              }
            }
          }
        }
        """
    )


def test_union_members_are_planned_per_runtime_type() -> None:
    plan = plan_of(SHAPES, "{ items { ... on Film { title } ... on Book { stock } } }")
    assert plan == expect(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "a") {
              query Operation__a__0 {
                items {
                  __typename
                  ... on Book {
                    __typename
                    id
                  }
                  ... on Film {
                    title
                  }
                }
              }
            },
            Flatten(path: "items.@") {
              Fetch(service: "b") {
                {
                  ... on Book {
                    __typename
                    id
                  }
                } =>
                query Operation__b__1($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Book {
                      stock
                    }
                  }
                }
              }
            }
          }
        }
        """
    )


OVERRIDE = supergraph(
    local_graphs("OLD", "NEW"),
    """
type Person @join__type(graph: OLD, key: "id") @join__type(graph: NEW, key: "id") {
  id: ID!
  level: Int @join__field(graph: OLD, usedOverridden: true) @join__field(graph: NEW, override: "old")
}

type Query @join__type(graph: OLD) @join__type(graph: NEW) {
  person: Person @join__field(graph: OLD)
}
""",
)


def test_an_overridden_field_is_fetched_from_the_subgraph_that_took_it_over() -> None:
    plan = plan_of(OVERRIDE, "{ person { level } }")
    assert 'Fetch(service: "new")' in plan
    assert "level" not in plan.split('Fetch(service: "new")')[0]


def test_fragments_and_aliases_reach_the_subgraph_resolved() -> None:
    query = """
    query Q { who: person(spid: "1") { ...Names } }
    fragment Names on Person { name: familyName idpoor { level } }
    """
    plan = plan_of(ENTITY_JUMP, query)
    assert "name: familyName" in plan
    assert "fragment" not in plan


def test_skip_and_include_are_passed_to_the_subgraph() -> None:
    query = 'query Q($x: Boolean!) { person(spid: "1") { familyName @include(if: $x) } }'
    plan = plan_of(ENTITY_JUMP, query)
    assert "familyName @include(if: $x)" in plan
    assert "query Q__identity__0($x: Boolean!)" in plan


def test_plans_are_cached_per_document_and_operation_name() -> None:
    gateway = Gateway.from_sdl(ENTITY_JUMP)
    query = 'query A { person(spid: "1") { spid } } query B { povertyLevels }'
    assert gateway.prepare(query, "A") is gateway.prepare(query, "A")
    assert gateway.prepare(query, "A") is not gateway.prepare(query, "B")
    partner_x = AccessView(key="partner-x")
    assert gateway.prepare(query, "A", view=partner_x) is not gateway.prepare(query, "A")
    assert gateway.prepare(query, "A", view=partner_x) is gateway.prepare(
        query, "A", view=partner_x
    )


def test_the_api_schema_hides_the_join_machinery() -> None:
    from graphql import print_schema

    printed = print_schema(Gateway.from_sdl(ENTITY_JUMP).api_schema)
    assert "join__" not in printed
    assert "@link" not in printed
    assert "type Person" in printed
    parse(printed)


def progressive(label: str) -> str:
    return supergraph(
        local_graphs("OLD", "NEW"),
        f"""
type Person @join__type(graph: OLD, key: "id") @join__type(graph: NEW, key: "id") {{
  id: ID!
  level: Int @join__field(graph: OLD, overrideLabel: "{label}") @join__field(graph: NEW, override: "old", overrideLabel: "{label}")
}}

type Query @join__type(graph: OLD) @join__type(graph: NEW) {{
  person: Person @join__field(graph: OLD)
}}
""",
    )


def test_progressive_override_at_100_percent_moves_the_field() -> None:
    assert 'Fetch(service: "new")' in plan_of(progressive("percent(100)"), "{ person { level } }")


def test_progressive_override_below_100_percent_keeps_the_field_where_it_was() -> None:
    plan = plan_of(progressive("percent(30)"), "{ person { level } }")
    assert 'Fetch(service: "new")' not in plan
    assert "level" in plan


def test_variables_in_fragment_conditions_are_declared() -> None:
    query = """
    query Q($x: Boolean!, $y: Boolean!) {
      ... @include(if: $y) { povertyLevels }
      person(spid: "1") { ... on Person @include(if: $x) { familyName } }
    }
    """
    plan = plan_of(ENTITY_JUMP, query)
    assert "query Q__idpoor__0($y: Boolean!)" in plan
    assert "query Q__identity__1($x: Boolean!)" in plan
