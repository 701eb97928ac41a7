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
