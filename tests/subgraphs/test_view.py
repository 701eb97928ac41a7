"""What a subgraph answers before any GraphQL runs: a JSON GraphQL error with a code.

Each body below was a 500 (strawberry read it with the standard library's json:
``RecursionError``, ``UnicodeDecodeError``, ``AttributeError`` on a number), and each
refusal was plain text without a code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest

from subgraphs.server import build_subgraph_app
from tests.fuzz.wire import send
from tests.gateway.classic import accounts
from tests.servers import serve

JSON = [(b"Content-Type", b"application/json")]


@pytest.fixture
async def subgraph() -> AsyncIterator[str]:
    async with serve(build_subgraph_app(accounts, name="accounts", gateway_secret="")) as url:
        yield url


@pytest.mark.parametrize(
    ("headers", "body", "said"),
    [
        (
            JSON,
            b'{"query": "{ me { id } }", "v": ' + b"[" * 5000 + b"]" * 5000 + b"}",
            "not valid JSON",
        ),
        (JSON, b'{"query": "{ me { id } }", "x": "\xff\xfe"}', "not valid JSON"),
        (JSON, b'{"query": "{ me { id } }", "variables": {"a": "\\ud800"}}', "not valid JSON"),
        (JSON, b"1", "the body must be one JSON object"),
        (JSON, b'"{ me { id } }"', "the body must be one JSON object"),
        (JSON, b'[{"query": "{ me { id } }"}]', "Batching is not enabled"),
        (JSON, b'{"query": 5}', "`query` must be a string"),
        (JSON, b'{"query": "{ me { id } }", "operationName": "Nope"}', "Unknown operation named"),
        ([(b"Content-Type", b"text/plain")], b'{"query": "{ me { id } }"}', "Unsupported content"),
    ],
)
async def test_a_request_refused_before_graphql_is_a_json_error_with_a_code(
    subgraph: str, headers: list[tuple[bytes, bytes]], body: bytes, said: str
) -> None:
    reply = await send(subgraph, b"POST", b"/graphql", headers, body)
    assert reply.status == 400, reply.text
    [error] = orjson.loads(reply.body)["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert said in error["message"]


async def test_a_good_request_is_answered_as_before(subgraph: str) -> None:
    reply = await send(subgraph, b"POST", b"/graphql", JSON, b'{"query": "{ me { id } }"}')
    assert (reply.status, orjson.loads(reply.body)) == (200, {"data": {"me": {"id": "1"}}})
