"""Every sandbox answers a bad body with a 4xx that says what to send: never a 500.

Each case below was a 500 (or a hang) before the sandboxes read bodies with orjson: a
deeply nested body (``RecursionError``), a lone surrogate that SQLite cannot encode,
``NaN`` accepted as a latency, a latency so large that the next call never ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox import idpoor, moi, nssf, pca
from sandbox.faults import Faults
from tests.fuzz.wire import send
from tests.servers import serve

APPS = {"idpoor": idpoor, "nssf": nssf, "pca": pca, "moi": moi}
PATHS = {
    "idpoor": "/v1/households/by-member",
    "nssf": "/v1/members/by-spid",
    "pca": "/v1/payments/by-beneficiary",
    "moi": "/v1/verifications",
}
JSON = [(b"Content-Type", b"application/json")]
BAD_BODIES = {
    "nested 5,000 levels": b'{"spids": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "a lone surrogate": b'{"spids": ["\\ud800"], "checks": [{"khmer_id": "\\ud800"}]}',
    "invalid UTF-8": b'{"spids": ["\xff\xfe"]}',
    "NaN": b'{"spids": NaN}',
    "not JSON": b"spids=1",
}


@pytest.fixture(params=sorted(APPS))
async def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    app = APPS[request.param].create_app(tmp_path / "sandbox.db", faults=Faults())
    async with serve(app) as url:
        yield request.param, url


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
async def test_a_bad_batch_body_is_a_400_that_says_what_to_send(
    sandbox: tuple[str, str], case: str
) -> None:
    name, url = sandbox
    reply = await send(url, b"POST", PATHS[name].encode(), JSON, BAD_BODIES[case])
    assert reply.status == 400, reply.text
    assert reply.text.startswith('{"error":"the body is not JSON') or "send {" in reply.text


async def test_a_body_over_a_megabyte_is_a_413(sandbox: tuple[str, str]) -> None:
    name, url = sandbox
    body = b'{"spids": ["' + b"1" * 1_100_000 + b'"]}'
    reply = await send(url, b"POST", PATHS[name].encode(), JSON, body)
    assert reply.status in (413, -1), reply.text  # -1: closed while we were still sending


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"latency_ms": NaN}', "the body is not JSON"),
        (b'{"latency_ms": 1e999}', "the body is not JSON"),
        (b'{"latency_ms": 1e12}', "latency_ms is at most 3,600,000 ms; use hang"),
        (b'{"jitter_ms": 3600001}', "jitter_ms is at most 3,600,000 ms"),
        (b"[" * 3000 + b"]" * 3000, "the body is not JSON"),
    ],
)
async def test_a_fault_setting_that_could_not_work_is_refused(
    sandbox: tuple[str, str], body: bytes, said: str
) -> None:
    _, url = sandbox
    reply = await send(url, b"POST", b"/admin/config", JSON, body)
    assert reply.status == 400 and said in reply.text, reply.text
    health = await send(url, b"GET", b"/v1/none", [])
    assert health.status == 404  # answered at once: no latency was set
