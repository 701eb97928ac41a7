"""Operation limits and the estimated cost: just under passes, just over is refused, naming
the limit, the value and the cap; the hostile requests of issue 10 are refused quickly."""

from __future__ import annotations

import time

import pytest

from gateway import Gateway, RequestError
from gateway.access import AccessView
from gateway.limits import LimitExceeded, OperationLimits
from tests.gateway.classic import SUBGRAPHS, supergraph_sdl
from tests.policies.schemas import tonle_supergraph

PERSON = "spid familyName"


def tonle(**limits: int) -> Gateway:
    return Gateway.from_sdl(tonle_supergraph(), limits=OperationLimits(**limits))


def refused(
    gateway: Gateway, query: str, variables: dict[str, object] | None = None
) -> LimitExceeded:
    with pytest.raises(LimitExceeded) as raised:
        prepared = gateway.prepare(query, None)
        gateway.check_cost(prepared, gateway.coerce_variables(prepared, variables or {}))
    return raised.value


def cost(gateway: Gateway, query: str, variables: dict[str, object] | None = None) -> int:
    prepared = gateway.prepare(query, None)
    return gateway.estimate(prepared, gateway.coerce_variables(prepared, variables or {}))


def nested(levels: int) -> str:
    inner = "spid"
    for _ in range(levels):
        inner = f"spid household {{ members {{ person {{ {inner} }} }} }}"
    return f'{{ person(spid: "123456789010") {{ {inner} }} }}'


def test_depth_just_under_passes_and_just_over_is_refused() -> None:
    gateway = tonle(max_depth=11, max_cost=10**12)
    # person, three times household/members/person, and a last spid
    assert gateway.prepare(nested(3), None).shape.depth == 11
    error = refused(gateway, nested(4))
    assert (error.limit, error.value, error.cap) == ("max_depth", 14, 11)
    assert error.message.startswith("This operation has 14 fields nested; at most 11")


def test_aliases_and_root_fields_just_under_and_just_over() -> None:
    gateway = tonle(max_aliases=5, max_root_fields=4)
    five = " ".join(f'a{i}: person(spid: "123456789010") {{ spid }}' for i in range(4))
    assert gateway.prepare("{ " + five + " }", None).shape.aliases == 4
    error = refused(gateway, "{ " + " ".join(f"a{i}: __typename" for i in range(6)) + " }")
    assert (error.limit, error.value, error.cap) == ("max_aliases", 6, 5)
    roots = " ".join(f'p{i}: person(spid: "123456789010") {{ spid }}' for i in range(5))
    error = refused(tonle(max_root_fields=4), "{ " + roots + " }")
    assert (error.limit, error.value, error.cap) == ("max_root_fields", 5, 4)


def test_tokens_over_the_cap_are_refused_while_parsing() -> None:
    gateway = tonle(max_tokens=50)
    query = "{ " + " ".join("__typename" for _ in range(20)) + " }"
    gateway.prepare(query, None)  # 22 tokens
    error = refused(gateway, "{ " + " ".join("__typename" for _ in range(60)) + " }")
    assert (error.limit, error.cap) == ("max_tokens", 50)


def test_cost_multiplies_page_sizes_through_nesting_and_counts_entity_jumps() -> None:
    gateway = tonle()
    page = 'query Q($n: Int!) {{ people(provinceCode: "12", first: $n) {{ edges {{ node {{ {} }} }} }} }}'
    # 1 connection + n edges + n nodes + 2n fields
    assert cost(gateway, page.format(PERSON), {"n": 100}) == 1 + 100 * 4
    # nssf lives in another subgraph: each person is also an entity sent there
    assert cost(gateway, page.format("spid nssf { active }"), {"n": 100}) == 1 + 100 * 5 + 100
    # a list without a page size counts as 10 per parent
    members = page.format("household { members { person { spid } } }")
    assert cost(gateway, members, {"n": 10}) == 1 + 10 * 3 + 10 * 10 * 3
    # the same page asked twice under two aliases costs twice
    twice = (
        'query Q($n: Int!) { a: people(provinceCode: "12", first: $n) { edges { node { spid } } } '
        'b: people(provinceCode: "12", first: $n) { edges { node { spid } } } }'
    )
    assert cost(gateway, twice, {"n": 100}) == 2 * (1 + 100 * 3)
    # and a fragment costs what its fields cost
    fragment = (
        'query Q($n: Int!) { people(provinceCode: "12", first: $n) { edges { node { ...F } } } } '
        "fragment F on Person { spid familyName }"
    )
    assert cost(gateway, fragment, {"n": 100}) == cost(gateway, page.format(PERSON), {"n": 100})


def test_cost_just_under_passes_and_just_over_is_refused() -> None:
    query = (
        'query Q($n: Int!) { people(provinceCode: "12", first: $n) { edges { node { spid } } } }'
    )
    gateway = tonle(max_cost=1 + 3 * 1000)
    prepared = gateway.prepare(query, None)
    assert gateway.check_cost(prepared, {"n": 1000}) == 3001
    error = refused(gateway, query, {"n": 1001})
    assert (error.limit, error.value, error.cap) == ("max_cost", 3004, 3001)
    assert "estimated cost is 3004" in error.message


def test_a_view_has_its_own_limits() -> None:
    gateway = tonle(max_depth=5, max_aliases=7)
    narrow = AccessView(key="narrow", limits={"max_depth": 3})
    query = '{ person(spid: "123456789010") { household { members { relationship } } } }'
    gateway.prepare(query, None)
    with pytest.raises(LimitExceeded):
        gateway.prepare(query, None, view=narrow)
    # the limits the view does not set are the gateway's
    assert gateway.limits_for(narrow) == OperationLimits(max_depth=3, max_aliases=7)
    assert gateway.limits_for(AccessView(key="open")) is gateway.limits


# -- the hostile requests of the issue, replayed -------------------------------------------


def test_two_hundred_aliases_of_ten_thousand_people_are_refused_at_once() -> None:
    gateway = tonle(max_aliases=300)
    query = (
        "{ "
        + " ".join(
            f'a{i}: people(provinceCode: "12", first: 10000) {{ edges {{ node {{ spid }} }} }}'
            for i in range(200)
        )
        + " }"
    )
    started = time.perf_counter()
    error = refused(gateway, query)
    assert error.limit in ("max_cost", "max_tokens", "max_root_fields")
    assert refused(tonle(max_aliases=300, max_root_fields=300, max_tokens=10**6), query).limit == (
        "max_cost"
    )
    assert time.perf_counter() - started < 1.0


def test_ten_levels_of_households_are_refused_at_once() -> None:
    started = time.perf_counter()
    error = refused(tonle(), nested(10))
    assert error.limit == "max_depth"
    assert time.perf_counter() - started < 0.5
    assert refused(tonle(max_depth=100), nested(10)).limit == "max_cost"


def test_a_hundred_thousand_aliases_are_refused_before_validation() -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(100_000)) + " }"
    started = time.perf_counter()
    error = refused(tonle(), query)
    assert error.limit == "max_tokens"
    assert time.perf_counter() - started < 0.5
    started = time.perf_counter()
    many = "{ " + " ".join(f"a{i}: __typename" for i in range(1500)) + " }"
    assert refused(tonle(max_tokens=10_000), many).limit == "max_aliases"
    assert time.perf_counter() - started < 0.5  # counted before the quadratic validation


def test_the_plan_cache_is_bounded_by_bytes_as_well_as_entries() -> None:
    gateway = Gateway.from_sdl(
        supergraph_sdl({n: f"http://127.0.0.1:1/{n}" for n in SUBGRAPHS}),
        plan_cache_bytes=2 * 1024 * 1024,
        limits=OperationLimits(max_tokens=100_000, max_aliases=100_000),
    )
    for i in range(300):
        padding = " " * 20_000  # distinct documents of about 20 KB each
        gateway.prepare(f"query Q{i} {{ topProducts {{ upc }} }}{padding}", None)
    assert gateway._cache_bytes <= 2 * 1024 * 1024
    assert 0 < len(gateway._cache) < 300


def test_an_unparsable_document_is_still_a_parse_error() -> None:
    with pytest.raises(RequestError) as raised:
        tonle().prepare("{ person(", None)
    assert raised.value.code == "GRAPHQL_PARSE_FAILED"
