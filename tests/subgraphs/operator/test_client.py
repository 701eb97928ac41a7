"""The shared operator client over real HTTP: batches, retries, breaker, cache, auth, X-Road."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from policies import Caller
from subgraphs.operator import (
    OPERATOR_TIMEOUT,
    OPERATOR_UNAVAILABLE,
    BreakerState,
    CircuitBreaker,
    OperatorClient,
    OperatorError,
    OperatorSettings,
    SettingsError,
    XRoad,
)
from tests.servers import free_port, serve
from tests.subgraphs.operator.tls import make_pki


def state(breaker: CircuitBreaker) -> BreakerState:
    return breaker.state  # a call, so that mypy does not narrow it between asserts


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeOperator:
    """An operator system that records what it is sent and answers as told."""

    seen: list[Seen] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered first, one per request
    delay_s: float = 0.0

    def app(self) -> Starlette:
        async def answer(request: Request) -> Response:
            raw = await request.body()
            body = json.loads(raw) if raw else None
            self.seen.append(Seen(request.method, request.url.path, dict(request.headers), body))
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            status = self.statuses.pop(0) if self.statuses else 200
            if status != 200:
                return JSONResponse({"error": "told to fail"}, status_code=status)
            items = next(iter(body.values())) if isinstance(body, dict) else []
            return JSONResponse({"results": [{"echo": item} for item in items]})

        return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


def settings(url: str, **changes: Any) -> OperatorSettings:
    base = OperatorSettings(
        operator="test", title="the test system", url=url, timeout_s=2.0, backoff_s=0.01
    )
    return replace(base, **changes)


@asynccontextmanager
async def client_of(
    fake: FakeOperator, tls: dict[str, Any] | None = None, **changes: Any
) -> AsyncIterator[OperatorClient]:
    async with serve(fake.app(), tls=tls) as url:
        client = OperatorClient(settings(url, **changes))
        try:
            yield client
        finally:
            await client.close()


async def test_a_batch_is_split_at_the_maximum_and_answers_in_order() -> None:
    fake = FakeOperator()
    async with client_of(fake, max_batch=4) as client:
        results = await client.batch("/v1/things", "spids", [str(i) for i in range(10)])
    assert [r["echo"] for r in results] == [str(i) for i in range(10)]
    assert sorted(len(s.body["spids"]) for s in fake.seen) == [2, 4, 4]


async def test_idempotent_reads_are_retried_after_transient_failures() -> None:
    fake = FakeOperator(statuses=[503, 502])
    async with client_of(fake, retries=2) as client:
        results = await client.batch("/v1/things", "spids", ["a"])
    assert results == [{"echo": "a"}]
    assert len(fake.seen) == 3


async def test_writes_are_never_retried() -> None:
    fake = FakeOperator(statuses=[503])
    async with client_of(fake, retries=3) as client:
        with pytest.raises(OperatorError) as failure:
            await client.request("POST", "/v1/payments", {"pay": 1}, idempotent=False)
    assert failure.value.code == OPERATOR_UNAVAILABLE
    assert "HTTP 503" in str(failure.value)
    assert len(fake.seen) == 1


async def test_a_refusal_is_not_retried_and_retries_stop_at_the_limit() -> None:
    fake = FakeOperator(statuses=[413])
    async with client_of(fake, retries=3) as client:
        with pytest.raises(OperatorError, match="HTTP 413"):
            await client.batch("/v1/things", "spids", ["a"])
        assert len(fake.seen) == 1
        fake.statuses = [500] * 10
        with pytest.raises(OperatorError, match="HTTP 500"):
            await client.batch("/v1/things", "spids", ["a"])
    assert len(fake.seen) == 1 + 4


async def test_a_slow_operator_times_out_within_its_budget_without_retries() -> None:
    fake = FakeOperator(delay_s=5)
    async with client_of(fake, timeout_s=0.5, retries=3) as client:
        started = time.perf_counter()
        with pytest.raises(OperatorError) as failure:
            await client.batch("/v1/things", "spids", ["a"])
        elapsed = time.perf_counter() - started
    assert failure.value.code == OPERATOR_TIMEOUT
    assert 0.45 < elapsed < 1.5
    assert len(fake.seen) == 1


async def test_an_unreachable_operator_is_unavailable() -> None:
    client = OperatorClient(settings(f"http://127.0.0.1:{free_port()}", retries=1))
    try:
        with pytest.raises(OperatorError, match="cannot be reached") as failure:
            await client.batch("/v1/things", "spids", ["a"])
    finally:
        await client.close()
    assert failure.value.code == OPERATOR_UNAVAILABLE


async def test_the_circuit_opens_after_repeated_failures_and_fails_fast() -> None:
    fake = FakeOperator(statuses=[503] * 4)
    async with client_of(fake, retries=0, breaker_failures=3, breaker_reset_s=0.3) as client:
        for _ in range(3):
            with pytest.raises(OperatorError, match="HTTP 503"):
                await client.batch("/v1/things", "spids", ["a"])
        assert state(client.breaker) is BreakerState.OPEN
        with pytest.raises(OperatorError, match="circuit open"):
            await client.batch("/v1/things", "spids", ["a"])
        assert len(fake.seen) == 3  # the fourth call never left
        await asyncio.sleep(0.35)
        assert state(client.breaker) is BreakerState.HALF_OPEN
        with pytest.raises(OperatorError, match="HTTP 503"):  # the trial call fails
            await client.batch("/v1/things", "spids", ["a"])
        assert state(client.breaker) is BreakerState.OPEN
        await asyncio.sleep(0.35)
        assert await client.batch("/v1/things", "spids", ["a"]) == [{"echo": "a"}]
        assert state(client.breaker) is BreakerState.CLOSED


async def test_nothing_is_cached_by_default() -> None:
    fake = FakeOperator()
    async with client_of(fake) as client:
        await client.batch("/v1/things", "spids", ["a", "b"])
        await client.batch("/v1/things", "spids", ["a", "b"])
        assert len(client.cache) == 0
    assert len(fake.seen) == 2


async def test_a_configured_cache_spares_repeated_lookups_until_it_expires() -> None:
    fake = FakeOperator()
    async with client_of(fake, cache_ttl_s=0.3) as client:
        await client.batch("/v1/things", "spids", ["a", "b"])
        assert await client.batch("/v1/things", "spids", ["b", "c"]) == [
            {"echo": "b"},
            {"echo": "c"},
        ]
        assert fake.seen[1].body == {"spids": ["c"]}  # only what was not held
        await client.batch("/v1/things", "spids", ["a"])
        assert len(fake.seen) == 2
        await asyncio.sleep(0.35)
        await client.batch("/v1/things", "spids", ["a"])
    assert len(fake.seen) == 3


async def test_an_api_key_is_sent_in_the_configured_header() -> None:
    fake = FakeOperator()
    async with client_of(fake, api_key="s3cret", api_key_header="X-NSSF-Key") as client:
        await client.batch("/v1/things", "spids", ["a"])
    assert fake.seen[0].headers["x-nssf-key"] == "s3cret"


async def test_x_road_addressing_and_a_fresh_message_id_per_request() -> None:
    fake = FakeOperator(statuses=[503])
    xroad = XRoad("CAMBODIA/GOV/MOSVY/TONLE", "CAMBODIA/GOV/NSSF/MEMBERS/nssf-api")
    async with client_of(fake, xroad=xroad, max_batch=1) as client:
        await client.batch(
            "/v1/members/by-spid", "spids", ["a", "b"], caller=Caller("moh", "statistics")
        )
    assert len(fake.seen) == 3  # two chunks, one of them retried
    assert {s.path for s in fake.seen} == {
        "/r1/CAMBODIA/GOV/NSSF/MEMBERS/nssf-api/v1/members/by-spid"
    }
    assert {s.headers["x-road-client"] for s in fake.seen} == {"CAMBODIA/GOV/MOSVY/TONLE"}
    assert {s.headers["x-road-userid"] for s in fake.seen} == {"moh"}
    assert {s.headers["x-road-issue"] for s in fake.seen} == {"statistics"}
    assert len({s.headers["x-road-id"] for s in fake.seen}) == 3


async def test_directly_the_operator_is_told_the_partner_its_user_and_the_purpose() -> None:
    fake = FakeOperator()
    caller = Caller("moh", "eligibility_check", end_user="nurse-7")
    async with client_of(fake) as client:
        await client.batch("/v1/members/by-spid", "spids", ["a"], caller=caller)
        await client.batch("/v1/members/by-spid", "spids", ["b"], caller=Caller("moh"))
        await client.batch("/v1/members/by-spid", "spids", ["c"])
    told = [{k: v for k, v in s.headers.items() if k.startswith("x-road-")} for s in fake.seen]
    assert told == [
        {
            "x-road-client": "moh",
            "x-road-userid": "moh/nurse-7",
            "x-road-issue": "eligibility_check",
        },
        {"x-road-client": "moh", "x-road-userid": "moh"},
        {},  # no caller (an open gateway): nothing claimed
    ]


async def test_mtls_presents_the_client_certificate(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    tls = {
        "ssl_certfile": str(pki.server_cert),
        "ssl_keyfile": str(pki.server_key),
        "ssl_ca_certs": str(pki.ca),
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
    }
    fake = FakeOperator()
    async with serve(fake.app(), tls=tls) as url:
        with_cert = OperatorClient(
            settings(
                url,
                ca_file=str(pki.ca),
                client_cert=str(pki.client_cert),
                client_key=str(pki.client_key),
            )
        )
        without_cert = OperatorClient(settings(url, ca_file=str(pki.ca), retries=0))
        try:
            assert await with_cert.batch("/v1/things", "spids", ["a"]) == [{"echo": "a"}]
            with pytest.raises(OperatorError) as refused:
                await without_cert.batch("/v1/things", "spids", ["a"])
        finally:
            await with_cert.close()
            await without_cert.close()
    assert refused.value.code == OPERATOR_UNAVAILABLE
    assert len(fake.seen) == 1


def test_settings_come_from_the_operators_variables() -> None:
    env = {
        "TONLE_NSSF_URL": "https://ss.camdx.example/",
        "TONLE_NSSF_TIMEOUT_S": "3",
        "TONLE_NSSF_MAX_BATCH": "250",
        "TONLE_NSSF_CACHE_TTL_S": "10",
        "TONLE_NSSF_API_KEY": "k",
        "TONLE_NSSF_XROAD_CLIENT": "CAMBODIA/GOV/MOSVY/TONLE",
        "TONLE_NSSF_XROAD_SERVICE": "CAMBODIA/GOV/NSSF/MEMBERS/nssf-api",
    }
    got = OperatorSettings.from_env("nssf", "the NSSF system", env)
    assert (got.url, got.timeout_s, got.max_batch, got.cache_ttl_s, got.api_key) == (
        "https://ss.camdx.example",
        3.0,
        250,
        10.0,
        "k",
    )
    assert got.xroad == XRoad("CAMBODIA/GOV/MOSVY/TONLE", "CAMBODIA/GOV/NSSF/MEMBERS/nssf-api")
    default = OperatorSettings.from_env("nssf", "the NSSF system", {"TONLE_NSSF_URL": "http://x"})
    assert (default.cache_ttl_s, default.xroad, default.retries) == (0.0, None, 2)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, "TONLE_NSSF_URL"),
        ({"TONLE_NSSF_URL": "http://x", "TONLE_NSSF_TIMEOUT_S": "soon"}, "TONLE_NSSF_TIMEOUT_S"),
        ({"TONLE_NSSF_URL": "http://x", "TONLE_NSSF_MAX_BATCH": "0"}, "TONLE_NSSF_MAX_BATCH"),
        ({"TONLE_NSSF_URL": "http://x", "TONLE_NSSF_XROAD_CLIENT": "GOV/X"}, "XROAD_CLIENT"),
        (
            {"TONLE_NSSF_URL": "https://x", "TONLE_NSSF_CLIENT_CERT": "c.pem"},
            "TONLE_NSSF_CLIENT_KEY",
        ),
    ],
)
def test_settings_that_cannot_work_are_refused_by_name(env: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingsError, match=problem):
        OperatorSettings.from_env("nssf", "the NSSF system", env)
