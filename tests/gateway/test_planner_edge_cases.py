"""Planner edge cases found by running a federation conformance audit against the gateway.

Each supergraph is written inline in the registry's words; plans are compared as printed,
and the one behaviour that lives in the executor (putting aliased keys back) runs
through ``Gateway.run`` with a transport that answers from canned subgraph responses.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from gateway import Gateway, PlanningError, print_plan
from tests.gateway.supergraphs import local_graphs, supergraph


def plan_of(sdl: str, query: str) -> str:
    return print_plan(Gateway.from_sdl(sdl).prepare(query, None).plan)


def expect(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


class CannedTransport:
    """Answers each subgraph request with the next canned response for that subgraph."""

    def __init__(self, responses: dict[str, list[dict[str, Any]]]) -> None:
        self.responses = responses
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send(self, service: str, payload: bytes) -> dict[str, Any]:
        self.sent.append((service, json.loads(payload)))
        return self.responses[service].pop(0)


# A field typed differently by the subgraph that serves both members of a union:
# Household.code is `String!` there, Village.code is `String`.
MEMBER_TYPE_MISMATCH = supergraph(
    local_graphs("REGISTRY", "GAZETTEER"),
    """
union Place
  @join__type(graph: GAZETTEER)
  @join__unionMember(graph: GAZETTEER, member: "Household")
  @join__unionMember(graph: GAZETTEER, member: "Village")
= Household | Village

type Household
  @join__type(graph: REGISTRY)
  @join__type(graph: GAZETTEER, key: "code")
{
  code: String @join__field(graph: REGISTRY, type: "String") @join__field(graph: GAZETTEER, type: "String!")
  head: String @join__field(graph: GAZETTEER)
  nearby: [Place!]! @join__field(graph: GAZETTEER)
}

type Village @join__type(graph: GAZETTEER) {
  code: String
  head: String
  nearby: [Place!]!
}

type Query @join__type(graph: REGISTRY) @join__type(graph: GAZETTEER) {
  places: [Place!]! @join__field(graph: GAZETTEER)
  households: [Household!]! @join__field(graph: REGISTRY)
}
""",
)


def test_differently_typed_fields_of_sibling_fragments_get_an_internal_alias() -> None:
    query = "{ places { ... on Household { code } ... on Village { code } } }"
    assert plan_of(MEMBER_TYPE_MISMATCH, query) == expect(
        """
        QueryPlan {
          Fetch(service: "gazetteer") {
            query Operation__gazetteer__0 {
              places {
                __typename
                ... on Household {
                  code
                }
                ... on Village {
                  __tonle_0_code: code
                }
              }
            }
          }
        }
        """
    )


def test_a_nested_type_mismatch_is_aliased_inside_and_the_outer_fields_stay_as_they_are() -> None:
    inner = "... on Household { code } ... on Village { code }"
    query = (
        f"{{ places {{ ... on Household {{ nearby {{ {inner} }} }}"
        f" ... on Village {{ nearby {{ {inner} }} }} }} }}"
    )
    printed = plan_of(MEMBER_TYPE_MISMATCH, query)
    assert printed.count("__tonle_") == 2
    assert "_nearby" not in printed


async def test_aliased_fields_come_back_under_the_client_key() -> None:
    gateway = Gateway.from_sdl(MEMBER_TYPE_MISMATCH)
    prepared = gateway.prepare(
        "{ places { ... on Household { code head } ... on Village { code head } } }", None
    )
    transport = CannedTransport(
        {
            "gazetteer": [
                {
                    "data": {
                        "places": [
                            {"__typename": "Household", "code": "H1", "head": "Sok"},
                            {"__typename": "Village", "__tonle_0_code": "V1", "head": "Chan"},
                        ]
                    }
                }
            ]
        }
    )
    body = await gateway.run(prepared, {}, transport)
    assert body == {
        "data": {"places": [{"code": "H1", "head": "Sok"}, {"code": "V1", "head": "Chan"}]}
    }


# Each subgraph needs the other's copy of Case.id to reach it: no plan exists.
KEY_NEEDS_ITSELF = supergraph(
    local_graphs("INTAKE", "PAYMENTS"),
    """
interface Record @join__type(graph: INTAKE) @join__type(graph: PAYMENTS) {
  id: ID!
}

type Case implements Record
  @join__implements(graph: INTAKE, interface: "Record")
  @join__implements(graph: PAYMENTS, interface: "Record")
  @join__type(graph: INTAKE, key: "id")
  @join__type(graph: PAYMENTS, key: "id")
{
  id: ID! @join__field(graph: INTAKE, external: true) @join__field(graph: PAYMENTS)
  amount: Int @join__field(graph: PAYMENTS)
}

type Query @join__type(graph: INTAKE) @join__type(graph: PAYMENTS) {
  record(id: ID!): Record @join__field(graph: INTAKE)
}
""",
)


def test_a_key_that_needs_itself_is_a_planning_error_not_a_crash() -> None:
    with pytest.raises(PlanningError, match=r"Case\.id"):
        plan_of(KEY_NEEDS_ITSELF, '{ record(id: "c1") { id } }')


# Grant is an interface in ELIGIBILITY (with implementations), an @interfaceObject in
# LEDGER and AUDIT. `reviewed` needs `amount` from ELIGIBILITY.
GRANT = supergraph(
    local_graphs("ELIGIBILITY", "LEDGER", "AUDIT"),
    """
interface Grant
  @join__type(graph: ELIGIBILITY, key: "id")
  @join__type(graph: LEDGER, key: "id", isInterfaceObject: true)
  @join__type(graph: AUDIT, key: "id", isInterfaceObject: true)
{
  id: ID!
  amount: Int @join__field(graph: ELIGIBILITY) @join__field(graph: LEDGER, external: true)
  reviewed: Boolean @join__field(graph: LEDGER, requires: "amount")
  flagged: Boolean @join__field(graph: AUDIT)
}

type CashGrant implements Grant
  @join__implements(graph: ELIGIBILITY, interface: "Grant")
  @join__type(graph: ELIGIBILITY, key: "id")
{
  id: ID!
  amount: Int
  reviewed: Boolean @join__field
  flagged: Boolean @join__field
}

type Query
  @join__type(graph: ELIGIBILITY)
  @join__type(graph: LEDGER)
  @join__type(graph: AUDIT)
{
  grants: [Grant!]! @join__field(graph: LEDGER)
}
""",
)


def test_a_requires_on_an_interface_object_is_sent_with_each_runtime_type() -> None:
    assert plan_of(GRANT, "{ grants { reviewed } }") == expect(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "ledger") {
              query Operation__ledger__0 {
                grants {
                  __typename
                  id
                }
              }
            },
            Flatten(path: "grants.@") {
              Fetch(service: "eligibility") {
                {
                  ... on Grant {
                    __typename
                    id
                  }
                } =>
                query Operation__eligibility__1($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Grant {
                      __typename
                      ... on CashGrant {
                        __typename
                        id
                        amount
                      }
                    }
                  }
                }
              }
            },
            Flatten(path: "grants.@") {
              Fetch(service: "ledger") {
                {
                  ... on CashGrant as Grant {
                    __typename
                    id
                    amount
                  }
                } =>
                query Operation__ledger__2($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Grant {
                      reviewed
                    }
                  }
                }
              }
            }
          }
        }
        """
    )


def test_an_interface_field_from_another_interface_object_needs_no_concrete_type() -> None:
    printed = plan_of(GRANT, "{ grants { id flagged } }")
    assert 'service: "eligibility"' not in printed
    assert 'Fetch(service: "audit")' in printed


ORPHAN_INTERFACE = supergraph(
    local_graphs("INTAKE", "NOTES"),
    """
interface Note
  @join__type(graph: INTAKE, key: "id")
  @join__type(graph: NOTES, key: "id", resolvable: false, isInterfaceObject: true)
{
  id: ID!
  text: String @join__field(graph: NOTES)
}

type Query @join__type(graph: INTAKE) @join__type(graph: NOTES) {
  latestNote: Note @join__field(graph: INTAKE)
}
""",
)


def test_a_field_unreachable_from_an_interface_without_implementations_is_refused() -> None:
    with pytest.raises(PlanningError, match=r"Note\.text"):
        plan_of(ORPHAN_INTERFACE, "{ latestNote { text } }")


def test_a_field_selected_under_two_conditions_declares_no_variable_it_does_not_use() -> None:
    # Found by the fuzz suite: the field is fetched once, unconditionally (the gateway
    # applies @skip itself while shaping), so $a and $b would be declared and unused,
    # and the subgraph refused the whole fetch ("Variable '$a' is never used").
    query = (
        "query($a: Boolean!, $b: Boolean!, $c: Boolean!) { households @include(if: $c) "
        "{ x: code @skip(if: $a) x: code @skip(if: $b) } }"
    )
    assert plan_of(MEMBER_TYPE_MISMATCH, query) == expect(
        """
        QueryPlan {
          Fetch(service: "registry") {
            query Operation__registry__0($c: Boolean!) {
              households @include(if: $c) {
                x: code
              }
            }
          }
        }
        """
    )


async def test_a_null_no_subgraph_error_explains_is_an_internal_error_with_a_code() -> None:
    gateway = Gateway.from_sdl(MEMBER_TYPE_MISMATCH)
    prepared = gateway.prepare("{ households { code } }", None)
    transport = CannedTransport({"registry": [{"data": {"households": None}}]})
    result = await gateway.run(prepared, {}, transport)
    assert result == {
        "errors": [
            {
                "message": "Cannot return null for non-nullable field Query.households.",
                "path": ["households"],
                "extensions": {"code": "INTERNAL_SERVER_ERROR"},
            }
        ],
        "data": None,
    }


def test_a_conditional_typename_declares_the_variable_of_its_condition() -> None:
    # Found by the fuzz suite: the subgraph refused "Variable '$a' is not defined".
    query = "query($a: Boolean!) { households { __typename @skip(if: $a) code } }"
    assert plan_of(MEMBER_TYPE_MISMATCH, query) == expect(
        """
        QueryPlan {
          Fetch(service: "registry") {
            query Operation__registry__0($a: Boolean!) {
              households {
                __typename @skip(if: $a)
                code
              }
            }
          }
        }
        """
    )
