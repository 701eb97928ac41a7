"""The gateway end to end: real strawberry subgraphs and the gateway over HTTP."""

from __future__ import annotations

from contextlib import AsyncExitStack

from tests.gateway.classic import SUBGRAPHS, supergraph_sdl
from tests.gateway.conftest import Stack, start_stack


async def test_typename_at_the_root_needs_no_subgraph(classic: Stack) -> None:
    assert await classic.query("query { __typename }") == {"data": {"__typename": "Query"}}
    assert sum(classic.requests.values()) == 0


async def test_nested_jumps_across_four_subgraphs_give_the_whole_answer(classic: Stack) -> None:
    query = """
    {
      topProducts(first: 2) {
        name
        price
        shippingEstimate
        inStock
        reviews { body author { username name } }
      }
    }
    """
    assert await classic.query(query) == {
        "data": {
            "topProducts": [
                {
                    "name": "Table",
                    "price": 899,
                    "shippingEstimate": 50,
                    "inStock": True,
                    "reviews": [
                        {
                            "body": "Love it!",
                            "author": {"username": "@ada", "name": "Ada Lovelace"},
                        },
                        {
                            "body": "Prefer something else.",
                            "author": {"username": "@complete", "name": "Alan Turing"},
                        },
                    ],
                },
                {
                    "name": "Couch",
                    "price": 1299,
                    "shippingEstimate": 0,
                    "inStock": False,
                    "reviews": [
                        {
                            "body": "Too expensive.",
                            "author": {"username": "@ada", "name": "Ada Lovelace"},
                        }
                    ],
                },
            ]
        }
    }


async def test_one_entities_request_per_fetch_for_a_whole_list(classic: Stack) -> None:
    await classic.query("{ topProducts { reviews { author { name } } } }")
    # products (root), reviews (entities for every product), accounts (every author)
    assert classic.requests == {"products": 1, "reviews": 1, "accounts": 1}


async def test_fields_come_back_in_the_order_asked_with_aliases_and_typename(
    classic: Stack,
) -> None:
    body = await classic.query(
        "{ me { t: __typename handle: username id } first: topProducts(first: 1) { upc } }"
    )
    assert body == {
        "data": {"me": {"t": "User", "handle": "@ada", "id": "1"}, "first": [{"upc": "1"}]}
    }
    assert list(body["data"]["me"]) == ["t", "handle", "id"]


async def test_fragments_skip_and_include_follow_the_variables(classic: Stack) -> None:
    query = """
    query Q($withName: Boolean!, $skipStock: Boolean!) {
      topProducts(first: 1) { ...P inStock @skip(if: $skipStock) }
    }
    fragment P on Product { upc name @include(if: $withName) }
    """
    assert await classic.query(query, {"withName": True, "skipStock": True}) == {
        "data": {"topProducts": [{"upc": "1", "name": "Table"}]}
    }
    assert await classic.query(query, {"withName": False, "skipStock": False}) == {
        "data": {"topProducts": [{"upc": "1", "inStock": True}]}
    }


async def test_introspection_shows_the_api_schema_only(classic: Stack) -> None:
    body = await classic.query(
        '{ __type(name: "Product") { fields { name } } __schema { types { name } } }'
    )
    fields = [f["name"] for f in body["data"]["__type"]["fields"]]
    assert fields == ["upc", "weight", "price", "inStock", "shippingEstimate", "name", "reviews"]
    names = {t["name"] for t in body["data"]["__schema"]["types"]}
    assert "Product" in names
    assert not any(n.startswith("join__") or n.startswith("link__") for n in names)


async def test_a_subgraph_that_is_down_costs_only_its_own_fields() -> None:
    async with AsyncExitStack() as stack:
        s = await start_stack(SUBGRAPHS, supergraph_sdl, stack=stack, down=frozenset({"inventory"}))
        status, body = await s.post("{ topProducts(first: 2) { name inStock } }")
    assert status == 200
    assert body["data"] == {
        "topProducts": [{"name": "Table", "inStock": None}, {"name": "Couch", "inStock": None}]
    }
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["extensions"]["code"] == "SUBGRAPH_UNAVAILABLE"
    assert error["extensions"]["serviceName"] == "inventory"
    assert error["path"] == ["topProducts", 0]
    assert "inventory" in error["message"]


async def test_a_root_subgraph_that_is_down_nulls_its_root_fields_and_keeps_others() -> None:
    async with AsyncExitStack() as stack:
        s = await start_stack(SUBGRAPHS, supergraph_sdl, stack=stack, down=frozenset({"accounts"}))
        status, body = await s.post("{ me { name } topProducts(first: 1) { name } }")
    assert status == 200
    assert body["data"] == {"me": None, "topProducts": [{"name": "Table"}]}
    assert [e["path"] for e in body["errors"]] == [["me"]]
    assert body["errors"][0]["extensions"]["code"] == "SUBGRAPH_UNAVAILABLE"


async def test_a_null_in_a_non_null_position_bubbles_to_the_nearest_nullable(
    classic: Stack,
) -> None:
    # users is [User!]!: if the accounts subgraph is down, the whole data is null.
    async with AsyncExitStack() as stack:
        s = await start_stack(SUBGRAPHS, supergraph_sdl, stack=stack, down=frozenset({"accounts"}))
        _, body = await s.post("{ users { id } topProducts(first: 1) { name } }")
    assert body["data"] is None
    assert body["errors"][0]["path"] == ["users"]


async def test_parse_errors_are_400_with_graphql_response_json(classic: Stack) -> None:
    status, body = await classic.post("{ topProducts { ")
    assert status == 400
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 17}]
    assert "data" not in body


async def test_validation_errors_name_the_problem(classic: Stack) -> None:
    status, body = await classic.post("{ topProducts { nope } }")
    assert status == 400
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "nope" in body["errors"][0]["message"]
    status, body = await classic.post("{ topProducts { nope } }", accept="application/json")
    assert status == 200  # the legacy media type answers 200, as the spec allows
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_bad_variables_are_bad_user_input(classic: Stack) -> None:
    status, body = await classic.post(
        "query Q($n: Int!) { topProducts(first: $n) { upc } }", {"n": "two"}
    )
    assert status == 400
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "$n" in body["errors"][0]["message"]


async def test_operation_name_selects_the_operation(classic: Stack) -> None:
    query = "query A { me { id } } query B { topProducts(first: 1) { upc } }"
    status, body = await classic.post(query, operation_name="B")
    assert status == 200
    assert body == {"data": {"topProducts": [{"upc": "1"}]}}
    status, body = await classic.post(query)
    assert status == 400
    assert body["errors"][0]["extensions"]["code"] == "OPERATION_RESOLUTION_FAILURE"


async def test_get_answers_queries_and_refuses_mutations(classic: Stack) -> None:
    async with classic.session.get(
        classic.gateway_url + "/graphql",
        params={"query": "{ me { id } }"},
        headers={"Apollo-Require-Preflight": "1"},
    ) as response:
        assert response.status == 200
        assert await response.json() == {"data": {"me": {"id": "1"}}}


async def test_a_get_a_browser_could_send_cross_site_is_refused(classic: Stack) -> None:
    # No header a cross-site <img> or form could not send: CSRF prevention.
    async with classic.session.get(
        classic.gateway_url + "/graphql", params={"query": "{ me { id } }"}
    ) as response:
        assert response.status == 400
        body = await response.json()
    assert "cross-site request forgery" in body["errors"][0]["message"]
    assert "data" not in body


async def test_requests_that_are_not_graphql_get_clear_errors(classic: Stack) -> None:
    url = classic.gateway_url + "/graphql"
    async with classic.session.post(url, data="{}", headers={"Content-Type": "text/plain"}) as r:
        assert r.status == 415
        assert "application/json" in (await r.json())["errors"][0]["message"]
    async with classic.session.post(
        url, data="{", headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 400
        assert "not valid JSON" in (await r.json())["errors"][0]["message"]
    async with classic.session.post(url, json={"variables": {}}) as r:
        assert r.status == 400
        assert "'query'" in (await r.json())["errors"][0]["message"]
    async with classic.session.post(
        url, json={"query": "{ me { id } }"}, headers={"Accept": "text/csv"}
    ) as r:
        assert r.status == 406


async def test_explorer_page_health_and_metrics(classic: Stack) -> None:
    async with classic.session.get(
        classic.gateway_url + "/graphql", headers={"Accept": "text/html"}
    ) as response:
        assert response.status == 200
        page = await response.text()
        assert "<title>Tonle GraphQL explorer</title>" in page
        assert "https://" not in page  # served locally, no CDN
    async with classic.session.get(classic.gateway_url + "/health") as response:
        assert response.status == 200
    await classic.query("{ topProducts { reviews { body } } }")
    async with classic.session.get(classic.gateway_url + "/metrics") as response:
        text = await response.text()
    assert 'tonle_subgraph_requests_total{subgraph="products"} 1.0' in text
    assert 'tonle_subgraph_requests_total{subgraph="reviews"} 1.0' in text


async def test_without_open_mode_a_partner_key_is_required() -> None:
    async with AsyncExitStack() as stack:
        s = await start_stack(
            SUBGRAPHS,
            supergraph_sdl,
            stack=stack,
            gateway_kwargs={"open_mode": False, "partner_keys": {"k-123": "nssf"}},
        )
        status, body = await s.post("{ me { id } }")
        assert status == 401
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        status, body = await s.post("{ me { id } }", headers={"Authorization": "Bearer k-123"})
        assert status == 200
        assert body == {"data": {"me": {"id": "1"}}}
        status, _ = await s.post("{ me { id } }", headers={"X-Api-Key": "k-12"})
        assert status == 401
