"""@requires that need one field with two arguments, or fields under type conditions.

Plans are compared as printed; the subgraphs in ``tests/gateway/requirements.py`` run
over real HTTP and every response is compared whole.
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from gateway import Gateway, print_plan
from tests.gateway import requirements
from tests.gateway.conftest import Stack, start_stack


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with AsyncExitStack() as exits:
        yield await start_stack(requirements.SUBGRAPHS, requirements.supergraph_sdl, stack=exits)


def plan_of(query: str) -> str:
    urls = {name: f"http://127.0.0.1:1/{name}" for name in requirements.SUBGRAPHS}
    sdl = requirements.supergraph_sdl(urls)
    return print_plan(Gateway.from_sdl(sdl).prepare(query, None).plan)


def expect(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def test_a_requires_with_type_conditions_sends_each_field_only_for_its_types() -> None:
    # Boat is @inaccessible: the client cannot name it, but the requirement can, so its
    # fields are fetched too.
    assert plan_of("{ households { id dwelling { material } repairGrant } }") == expect(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "survey") {
              query Operation__survey__0 {
                households {
                  id
                  dwelling {
                    __typename
                    ... on House {
                      material
                      rooms
                    }
                    ... on Boat {
                      material
                      moorings
                    }
                  }
                  __typename
                }
              }
            },
            Flatten(path: "households.@") {
              Fetch(service: "benefits") {
                {
                  ... on Household {
                    __typename
                    id
                    dwelling {
                      __typename
                      material
                      ... on House {
                        rooms
                      }
                      ... on Boat {
                        moorings
                      }
                    }
                  }
                } =>
                query Operation__benefits__1($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Household {
                      repairGrant
                    }
                  }
                }
              }
            }
          }
        }
        """
    )


async def test_each_kind_of_dwelling_sends_its_own_fields(stack: Stack) -> None:
    body = await stack.query("{ households { id repairGrant } }")
    assert body == {
        "data": {
            "households": [
                {"id": "h1", "repairGrant": "brick, 3 rooms"},
                {"id": "h2", "repairGrant": "bamboo, 2 moorings"},
            ]
        }
    }
    assert stack.requests == {"survey": 1, "benefits": 1}


async def test_a_hidden_member_type_is_null_for_the_client_but_serves_a_requires(
    stack: Stack,
) -> None:
    body = await stack.query("{ households { id dwelling { material } repairGrant } }")
    assert body == {
        "data": {
            "households": [
                {"id": "h1", "dwelling": {"material": "brick"}, "repairGrant": "brick, 3 rooms"},
                {"id": "h2", "dwelling": None, "repairGrant": "bamboo, 2 moorings"},
            ]
        },
        # as Apollo's gateway does, without naming the type the API schema hides
        "errors": [
            {
                "message": "Invalid __typename for an object of abstract type Dwelling.",
                "path": ["households", 1, "dwelling"],
                "extensions": {"code": "INTERNAL_SERVER_ERROR"},
            }
        ],
    }
    assert stack.requests == {"survey": 1, "benefits": 1}


def test_a_field_required_with_two_arguments_is_fetched_under_two_keys_and_sent_apart() -> None:
    # One representation holds one `income`: the dollar figure is fetched under an
    # internal key and sent, as `income`, in a fetch of its own.
    assert plan_of("{ households { id cashTransferKhr cashTransferUsd } }") == expect(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "survey") {
              query Operation__survey__0 {
                households {
                  id
                  __typename
                  income(currency: "KHR")
                  size
                  __tonle_income: income(currency: "USD")
                }
              }
            },
            Parallel {
              Flatten(path: "households.@") {
                Fetch(service: "benefits") {
                  {
                    ... on Household {
                      __typename
                      id
                      income
                      size
                    }
                  } =>
                  query Operation__benefits__1($representations: [_Any!]!) {
                    _entities(representations: $representations) {
                      ... on Household {
                        cashTransferKhr
                      }
                    }
                  }
                }
              },
              Flatten(path: "households.@") {
                Fetch(service: "benefits") {
                  {
                    ... on Household {
                      __typename
                      id
                      __tonle_income: income
                      size
                    }
                  } =>
                  query Operation__benefits__2($representations: [_Any!]!) {
                    _entities(representations: $representations) {
                      ... on Household {
                        cashTransferUsd
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


async def test_each_requires_gets_the_field_with_its_own_arguments(stack: Stack) -> None:
    body = await stack.query("{ households { id cashTransferKhr cashTransferUsd } }")
    assert body == {
        "data": {
            "households": [
                {"id": "h1", "cashTransferKhr": 200_000, "cashTransferUsd": 50},
                {"id": "h2", "cashTransferKhr": 180_000, "cashTransferUsd": 45},
            ]
        }
    }
    assert stack.requests == {"survey": 1, "benefits": 2}
