"""Planner guards for nested @provides and @requires behind a composite key.

Both shapes come from the federation gateway audit (nested-provides, keys-mashup): the
planner already handles them, and these snapshots keep it that way.
"""

from __future__ import annotations

import textwrap

from gateway import Gateway, print_plan
from tests.gateway.supergraphs import local_graphs, supergraph


def plan_of(sdl: str, query: str) -> str:
    return print_plan(Gateway.from_sdl(sdl).prepare(query, None).plan)


def expect(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


# CATALOGUE provides two levels of sites; SITES owns them and STUBS only knows programmes.
# Resolving Site.name anywhere but under Query.programmes would need CATALOGUE's entity
# resolver, which in the audit throws, so the whole query must stay in one fetch.
NESTED_PROVIDES = supergraph(
    local_graphs("CATALOGUE", "SITES", "STUBS"),
    """
type Programme
  @join__type(graph: CATALOGUE, key: "id")
  @join__type(graph: SITES, key: "id")
  @join__type(graph: STUBS, key: "id")
{
  id: ID!
  sites: [Site] @join__field(graph: CATALOGUE, external: true) @join__field(graph: SITES)
}

type Site @join__type(graph: CATALOGUE, key: "id") @join__type(graph: SITES, key: "id") {
  id: ID!
  name: String @join__field(graph: CATALOGUE)
  subSites: [Site] @join__field(graph: CATALOGUE, external: true) @join__field(graph: SITES)
}

type Query @join__type(graph: CATALOGUE) @join__type(graph: SITES) @join__type(graph: STUBS) {
  programmes: [Programme]
    @join__field(graph: CATALOGUE, provides: "sites { id name subSites { id name } }")
}
""",
)


def test_nested_provides_keep_every_provided_level_in_the_providing_fetch() -> None:
    query = "{ programmes { id sites { id name subSites { id name } } } }"
    assert plan_of(NESTED_PROVIDES, query) == expect(
        """
        QueryPlan {
          Fetch(service: "catalogue") {
            query Operation__catalogue__0 {
              programmes {
                id
                sites {
                  id
                  name
                  subSites {
                    id
                    name
                  }
                }
              }
            }
          }
        }
        """
    )


# B resolves Household only by the composite key "id code { number }"; A resolves it only
# by "id". The required headName comes from A, then goes back to B with B's own key.
COMPOSITE_KEY_REQUIRES = supergraph(
    local_graphs("A", "B"),
    """
type Household
  @join__type(graph: A, key: "id")
  @join__type(graph: A, key: "code { district number }", resolvable: false)
  @join__type(graph: B, key: "id code { number }")
  @join__type(graph: B, key: "id", resolvable: false)
{
  id: ID!
  code: HouseholdCode!
  headName: String! @join__field(graph: A) @join__field(graph: B, external: true)
  greeting: String! @join__field(graph: B, requires: "headName")
}

type HouseholdCode @join__type(graph: A) @join__type(graph: B) {
  district: ID!
  number: ID!
}

type Register @join__type(graph: B, key: "id") {
  id: ID!
  households: [Household!]!
}

type Query @join__type(graph: A) @join__type(graph: B) {
  register: Register @join__field(graph: B)
}
""",
)


def test_requires_goes_back_with_the_composite_key_the_requiring_subgraph_resolves() -> None:
    query = "{ register { id households { id headName greeting } } }"
    assert plan_of(COMPOSITE_KEY_REQUIRES, query) == expect(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "b") {
              query Operation__b__0 {
                register {
                  id
                  households {
                    id
                    __typename
                    code {
                      number
                    }
                  }
                }
              }
            },
            Flatten(path: "register.households.@") {
              Fetch(service: "a") {
                {
                  ... on Household {
                    __typename
                    id
                  }
                } =>
                query Operation__a__1($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Household {
                      headName
                    }
                  }
                }
              }
            },
            Flatten(path: "register.households.@") {
              Fetch(service: "b") {
                {
                  ... on Household {
                    __typename
                    id
                    code {
                      number
                    }
                    headName
                  }
                } =>
                query Operation__b__2($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Household {
                      greeting
                    }
                  }
                }
              }
            }
          }
        }
        """
    )
