"""Which subgraph serves a field: choices the federation conformance audit checks.

Supergraphs are inline, in the registry's words; plans are compared as printed.
"""

from __future__ import annotations

import textwrap

from gateway import Gateway, print_plan
from tests.gateway.supergraphs import local_graphs, supergraph


def plan_of(sdl: str, query: str) -> str:
    return print_plan(Gateway.from_sdl(sdl).prepare(query, None).plan)


def expect(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


# Both subgraphs serve Query.documents; only SCANS provides the document's title, which
# ARCHIVE owns. Documents are a union.
PROVIDED_UNION = supergraph(
    local_graphs("ARCHIVE", "INDEX", "SCANS"),
    """
union Document
  @join__type(graph: INDEX)
  @join__type(graph: SCANS)
  @join__unionMember(graph: INDEX, member: "Deed")
  @join__unionMember(graph: INDEX, member: "Permit")
  @join__unionMember(graph: SCANS, member: "Deed")
  @join__unionMember(graph: SCANS, member: "Permit")
= Deed | Permit

type Deed
  @join__type(graph: ARCHIVE, key: "id")
  @join__type(graph: INDEX, key: "id")
  @join__type(graph: SCANS, key: "id")
{
  id: ID!
  title: String @join__field(graph: ARCHIVE) @join__field(graph: SCANS, external: true)
}

type Permit
  @join__type(graph: ARCHIVE, key: "id")
  @join__type(graph: INDEX, key: "id")
  @join__type(graph: SCANS, key: "id")
{
  id: ID!
  title: String @join__field(graph: ARCHIVE)
}

type Query @join__type(graph: ARCHIVE) @join__type(graph: INDEX) @join__type(graph: SCANS) {
  documents: [Document]
    @join__field(graph: INDEX)
    @join__field(graph: SCANS, provides: "... on Deed { title }")
}
""",
)


def test_a_shared_root_field_goes_to_the_subgraph_whose_provides_cover_the_union_members() -> None:
    query = "{ documents { ... on Deed { id title } ... on Permit { id } } }"
    assert plan_of(PROVIDED_UNION, query) == expect(
        """
        QueryPlan {
          Fetch(service: "scans") {
            query Operation__scans__0 {
              documents {
                __typename
                ... on Deed {
                  id
                  title
                }
                ... on Permit {
                  id
                }
              }
            }
          }
        }
        """
    )


# PROGRAMMES owns a benefit's monthly amount but keeps it @inaccessible; PAYMENTS needs
# it to compute the yearly total.
INACCESSIBLE_REQUIREMENT = supergraph(
    local_graphs("PAYMENTS", "PROGRAMMES"),
    """
type Benefit
  @join__type(graph: PAYMENTS, key: "id")
  @join__type(graph: PROGRAMMES, key: "id")
{
  id: ID!
  monthly: Float! @inaccessible @join__field(graph: PAYMENTS, external: true) @join__field(graph: PROGRAMMES)
  yearly: Float! @join__field(graph: PAYMENTS, requires: "monthly")
}

type Query @join__type(graph: PAYMENTS) @join__type(graph: PROGRAMMES) {
  benefit: Benefit @join__field(graph: PROGRAMMES)
}

directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
""",
    extra_links='  @link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)\n',
)


def test_a_requires_may_name_an_inaccessible_field() -> None:
    printed = plan_of(INACCESSIBLE_REQUIREMENT, "{ benefit { yearly } }")
    assert printed == expect(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "programmes") {
              query Operation__programmes__0 {
                benefit {
                  __typename
                  id
                  monthly
                }
              }
            },
            Flatten(path: "benefit") {
              Fetch(service: "payments") {
                {
                  ... on Benefit {
                    __typename
                    id
                    monthly
                  }
                } =>
                query Operation__payments__1($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Benefit {
                      yearly
                    }
                  }
                }
              }
            }
          }
        }
        """
    )


# A household's address is a value type: CENSUS and POSTAL both resolve it, but only
# POSTAL knows its postcode, and only POSTAL-side Household has a key with `id`.
PARENT_ENTITY = supergraph(
    local_graphs("CENSUS", "POSTAL"),
    """
type Household
  @join__type(graph: CENSUS, key: "id")
  @join__type(graph: POSTAL, key: "id")
{
  id: ID!
  address: Address @join__field(graph: CENSUS) @join__field(graph: POSTAL)
}

type Address @join__type(graph: CENSUS) @join__type(graph: POSTAL) {
  village: String @join__field(graph: CENSUS) @join__field(graph: POSTAL)
  postcode: String @join__field(graph: POSTAL)
}

type Query @join__type(graph: CENSUS) @join__type(graph: POSTAL) {
  households: [Household!]! @join__field(graph: CENSUS)
}
""",
)


def test_a_value_type_field_is_fetched_through_the_enclosing_entity() -> None:
    query = "{ households { address { village postcode } } }"
    assert plan_of(PARENT_ENTITY, query) == expect(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "census") {
              query Operation__census__0 {
                households {
                  address {
                    village
                  }
                  __typename
                  id
                }
              }
            },
            Flatten(path: "households.@") {
              Fetch(service: "postal") {
                {
                  ... on Household {
                    __typename
                    id
                  }
                } =>
                query Operation__postal__1($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Household {
                      address {
                        postcode
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


# Three subgraphs share Query.office, each with its own part of a value type.
SHARED_ROOT = supergraph(
    local_graphs("HOURS", "STAFF"),
    """
type Office @join__type(graph: HOURS) @join__type(graph: STAFF) {
  id: ID!
  opens: String @join__field(graph: HOURS)
  clerks: Int @join__field(graph: STAFF)
}

type Query @join__type(graph: HOURS) @join__type(graph: STAFF) {
  office: Office @join__field(graph: HOURS) @join__field(graph: STAFF)
}
""",
)


def test_a_shared_root_field_over_a_value_type_is_asked_of_each_subgraph() -> None:
    assert plan_of(SHARED_ROOT, "{ office { id opens clerks } }") == expect(
        """
        QueryPlan {
          Parallel {
            Fetch(service: "hours") {
              query Operation__hours__0 {
                office {
                  id
                  opens
                }
              }
            },
            Fetch(service: "staff") {
              query Operation__staff__1 {
                office {
                  clerks
                }
              }
            }
          }
        }
        """
    )


# INTAKE types Query.case as the one member of the union it knows.
NARROWER_IN_SUBGRAPH = supergraph(
    local_graphs("INTAKE", "APPEALS"),
    """
union Case
  @join__type(graph: INTAKE)
  @join__type(graph: APPEALS)
  @join__unionMember(graph: INTAKE, member: "Claim")
  @join__unionMember(graph: APPEALS, member: "Claim")
  @join__unionMember(graph: APPEALS, member: "Appeal")
= Claim | Appeal

type Claim @join__type(graph: INTAKE, key: "id") @join__type(graph: APPEALS, key: "id") {
  id: ID!
}

type Appeal @join__type(graph: APPEALS, key: "id") {
  id: ID!
}

type Query @join__type(graph: INTAKE) @join__type(graph: APPEALS) {
  latest: Case @join__field(graph: INTAKE, type: "Claim")
}
""",
)


def test_fragments_on_other_members_are_not_sent_where_the_field_has_a_narrower_type() -> None:
    query = "{ latest { ... on Claim { id } ... on Appeal { id } } }"
    assert plan_of(NARROWER_IN_SUBGRAPH, query) == expect(
        """
        QueryPlan {
          Fetch(service: "intake") {
            query Operation__intake__0 {
              latest {
                __typename
                id
              }
            }
          }
        }
        """
    )
