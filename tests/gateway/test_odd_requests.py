"""Requests the fuzz suite found answered with a 500 by the gateway, answered with a 400 now."""

from __future__ import annotations

import orjson

from tests.fuzz.wire import send
from tests.gateway.conftest import Stack

QUERY = "query($d: [[String]]) { me { id } }"


async def test_get_variables_nested_thousands_of_levels_are_a_400(classic: Stack) -> None:
    # json.loads recursed through the query string's variables: a RecursionError.
    target = b"/graphql?query=%7B%20me%20%7B%20id%20%7D%20%7D&variables=" + b"%5B" * 5000
    headers = [(b"Accept", b"application/json"), (b"Apollo-Require-Preflight", b"true")]
    reply = await send(classic.gateway_url, b"GET", target, headers)
    assert reply.status in (200, 400), reply.text  # 200: the legacy media type's request error
    [error] = orjson.loads(reply.body)["errors"]
    assert error == {
        "message": "The 'variables' query parameter is not valid JSON.",
        "extensions": {"code": "BAD_REQUEST"},
    }


async def test_variables_nested_deeper_than_the_gateway_writes_are_a_400(classic: Stack) -> None:
    # orjson reads 1,024 levels but writes 254: measuring the variables raised TypeError.
    body = b'{"query": "' + QUERY.encode() + b'", "variables": {"d": '
    body += b"[" * 300 + b"]" * 300 + b"}}"
    reply = await send(
        classic.gateway_url,
        b"POST",
        b"/graphql",
        [(b"Content-Type", b"application/json"), (b"Accept", b"application/graphql-response+json")],
        body,
    )
    assert reply.status == 400, reply.text
    [error] = orjson.loads(reply.body)["errors"]
    assert error["message"] == "'variables' are nested more than 254 levels deep."
    assert error["extensions"]["code"] == "BAD_REQUEST"
