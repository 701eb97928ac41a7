"""Gateway trust, tried as a hostile partner would: every way around the gateway is shut.

The partner has captured subgraph requests as the gateway sends them (the gateway's own
transport, pointed at a tap), and sends them on to the real identity subgraph (over a
migrated SQLite registry) and the real nssf subgraph (over its sandbox): unsigned, forged,
stale, replayed, re-targeted, tampered with, over GET, to another path. Each gets 401 (405
for another method) and no data. Last, what an operator is told about the caller, through
a gateway request, directly and through a CamDX security server.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway import AiohttpTransport, Gateway, execute_plan
from policies import SIGNATURE_HEADER, Caller, Signer, sign
from policies.caller import OPERATOR_HEADER, PARTNER_HEADER, PURPOSE_HEADER, SCOPE_HEADER, RowScope
from sandbox import nssf as nssf_sandbox
from sandbox.faults import FaultInjection
from sandbox.nssf.records import nssf_members
from sandbox.population import generate_population
from subgraphs import identity, nssf
from subgraphs.operator import XRoad
from tests.federation import live_supergraph, register_population
from tests.servers import serve

SECRET = "test-gateway-secret"
VILLAGE = "01020101"
POPULATION = generate_population(40, seed=23)
CALLER = Caller(
    partner="moh",
    purpose="eligibility_check",
    end_user="nurse-7",
    scope=RowScope(areas=("0102",)),
)
PEOPLE = (
    f'query People__identity__0 {{ people(villageCode: "{VILLAGE}", first: 5) '
    "{ edges { node { spid familyName __typename } } } }"
)
EVERYTHING = (
    f'{{ people(villageCode: "{VILLAGE}", first: 40) '
    "{ edges { node { spid familyName givenName birthDate khmerId } } } }"
)
MEMBERS = [m.spid for m in nssf_members(POPULATION)][:5]
NSSF_ENTITIES = (
    "query People__nssf__1($representations: [_Any!]!) "
    "{ _entities(representations: $representations) "
    "{ ... on Person { nssf { memberId status } } } }"
)


def graphql(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return orjson.dumps({"query": query, "variables": variables or {}})


PEOPLE_BODY = graphql(PEOPLE)
NSSF_BODY = graphql(
    NSSF_ENTITIES, {"representations": [{"__typename": "Person", "spid": s} for s in MEMBERS]}
)


@dataclass(frozen=True)
class Captured:
    """A subgraph request as it crossed the wire from the gateway."""

    method: str
    target: str  # path and query string
    headers: tuple[tuple[str, str], ...]  # what a replay sends again
    body: bytes

    def with_headers(self, change: dict[str, str | None]) -> tuple[tuple[str, str], ...]:
        kept = [(n, v) for n, v in self.headers if n not in change]
        return (*kept, *((n, v) for n, v in change.items() if v is not None))


@dataclass
class Tap:
    """Stands where a subgraph would, records what the gateway sends, answers nothing."""

    seen: list[Captured] = field(default_factory=list)

    def app(self) -> Starlette:
        async def record(request: Request) -> Response:
            raw = request.scope.get("raw_path") or request.url.path.encode()
            query = request.scope.get("query_string", b"")
            target = raw.decode() + (f"?{query.decode()}" if query else "")
            keep = ("content-type", "accept", "x-tonle-")
            headers = tuple((n, v) for n, v in request.headers.items() if n.startswith(keep))
            self.seen.append(Captured(request.method, target, headers, await request.body()))
            return JSONResponse({"data": {}})

        return Starlette(routes=[Route("/{path:path}", record, methods=["POST"])])


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Stack:
    identity: str
    nssf: str
    tap: str
    taps: Tap
    sandbox: FaultInjection
    sandbox_url: str
    session: aiohttp.ClientSession

    async def capture(
        self, service: str, body: bytes, *, path: str = "/graphql", caller: Caller = CALLER
    ) -> Captured:
        """What the gateway's transport sends ``service`` (its routing URL path: ``path``)."""
        transport = AiohttpTransport({service: self.tap + path}, gateway_secret=SECRET)
        try:
            await transport.send(service, body, caller.headers())
        finally:
            await transport.close()
        return self.taps.seen[-1]

    async def send(
        self,
        base: str,
        request: Captured,
        *,
        method: str | None = None,
        target: str | None = None,
        headers: tuple[tuple[str, str], ...] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        async with self.session.request(
            method or request.method,
            base + (target if target is not None else request.target),
            data=body if body is not None else request.body,
            headers=list(headers if headers is not None else request.headers),
        ) as response:
            return Answer(response.status, dict(response.headers), await response.read())


def assert_refused(answer: Answer, status: int = 401, *, reason: str = "") -> None:
    """Refused with a GraphQL error, no data, and nothing personal in the answer."""
    assert answer.status == status, answer.body
    body = answer.json()
    assert set(body) == {"errors"}
    [error] = body["errors"]
    assert error["extensions"]["code"] == ("UNAUTHENTICATED" if status == 401 else "BAD_REQUEST")
    assert reason in error["message"]
    text = answer.body.decode()
    for person in POPULATION.people:
        assert person.spid not in text
        assert person.birth_date.isoformat() not in text
        assert person.khmer_id is None or person.khmer_id not in text


def assert_answered(answer: Answer) -> dict[str, Any]:
    assert answer.status == 200, answer.body
    body = answer.json()
    assert "errors" not in body
    data: dict[str, Any] = body["data"]
    return data


@asynccontextmanager
async def running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, xroad: bool = False
) -> AsyncIterator[Stack]:
    registry = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    await register_population(registry, POPULATION, village=VILLAGE)
    monkeypatch.setenv("TONLE_GATEWAY_SECRET", SECRET)  # the identity subgraph reads it
    sandbox_app = nssf_sandbox.create_app(tmp_path / "nssf.db", seed_population=POPULATION)
    taps = Tap()
    async with AsyncExitStack() as exits:
        sandbox = await exits.enter_async_context(serve(sandbox_app))
        operator: dict[str, Any] = {"operator_url": sandbox}
        if xroad:
            side = await exits.enter_async_context(serve(security_server(sandbox)))
            operator = {"operator_url": side, "xroad": XRoad(XROAD_CLIENT, XROAD_SERVICE)}
        yield Stack(
            identity=await exits.enter_async_context(serve(identity.create_app(registry))),
            nssf=await exits.enter_async_context(
                serve(nssf.create_app(gateway_secret=SECRET, **operator))
            ),
            tap=await exits.enter_async_context(serve(taps.app())),
            taps=taps,
            sandbox=sandbox_app,
            sandbox_url=sandbox,
            session=await exits.enter_async_context(aiohttp.ClientSession()),
        )


@pytest.fixture
async def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Stack]:
    async with running(tmp_path, monkeypatch) as stack:
        yield stack


# -- the attacks ------------------------------------------------------------------------------


async def test_an_unsigned_request_gets_401_and_no_data(stack: Stack) -> None:
    for base, body in ((stack.identity, PEOPLE_BODY), (stack.nssf, NSSF_BODY)):
        bare = Captured("POST", "/graphql", (("Content-Type", "application/json"),), body)
        assert_refused(await stack.send(base, bare), reason="missing X-Tonle-Signature")
    assert stack.sandbox.stats.requests == 0


async def test_a_signature_forged_with_a_guessed_secret_gets_401(stack: Stack) -> None:
    headers = {"Content-Type": "application/json", **CALLER.headers()}
    forged = sign(
        "guessed-secret",
        method="POST",
        audience="identity",
        target="/graphql",
        body=PEOPLE_BODY,
        headers=headers,
    )
    request = Captured(
        "POST", "/graphql", (*headers.items(), (SIGNATURE_HEADER, forged)), PEOPLE_BODY
    )
    assert_refused(await stack.send(stack.identity, request), reason="bad signature")


async def test_a_stale_signature_gets_401(stack: Stack) -> None:
    headers = {"Content-Type": "application/json", **CALLER.headers()}
    two_minutes_ago = Signer(SECRET, audience="identity", target="/graphql").sign(
        PEOPLE_BODY, headers, now=time.time() - 120
    )
    request = Captured(
        "POST", "/graphql", (*headers.items(), (SIGNATURE_HEADER, two_minutes_ago)), PEOPLE_BODY
    )
    assert_refused(await stack.send(stack.identity, request), reason="stale signature")


async def test_a_captured_request_is_answered_once_and_refused_three_times_after(
    stack: Stack,
) -> None:
    captured = await stack.capture("identity", PEOPLE_BODY)
    first = assert_answered(await stack.send(stack.identity, captured))
    assert len(first["people"]["edges"]) == 5
    for _ in range(3):
        assert_refused(await stack.send(stack.identity, captured), reason="replayed")

    captured = await stack.capture("nssf", NSSF_BODY)
    entities = assert_answered(await stack.send(stack.nssf, captured))["_entities"]
    assert all(e["nssf"] is not None for e in entities)
    for _ in range(3):
        assert_refused(await stack.send(stack.nssf, captured), reason="replayed")
    assert stack.sandbox.stats.batch_requests == 1


async def test_a_request_captured_for_one_subgraph_gets_401_from_another(stack: Stack) -> None:
    for_identity = await stack.capture("identity", PEOPLE_BODY)
    for_nssf = await stack.capture("nssf", NSSF_BODY)
    assert_refused(await stack.send(stack.nssf, for_identity), reason="bad signature")
    assert_refused(await stack.send(stack.identity, for_nssf), reason="bad signature")
    # the body aimed at nssf, with identity's signature: still the wrong audience's request
    assert_refused(
        await stack.send(stack.nssf, for_identity, body=for_nssf.body), reason="bad signature"
    )
    assert stack.sandbox.stats.requests == 0
    # both were good where they were meant to go
    assert_answered(await stack.send(stack.identity, for_identity))
    assert_answered(await stack.send(stack.nssf, for_nssf))


async def test_a_tampered_body_gets_401(stack: Stack) -> None:
    captured = await stack.capture("identity", PEOPLE_BODY)
    for body in (
        graphql(EVERYTHING),
        captured.body.replace(b"first: 5", b"first: 9"),
        captured.body + b" ",
    ):
        assert_refused(
            await stack.send(stack.identity, captured, body=body), reason="bad signature"
        )
    assert_answered(await stack.send(stack.identity, captured))


HEADER_CHANGES: dict[str, dict[str, str | None]] = {
    "widened scope": {SCOPE_HEADER: RowScope(areas=("01",)).to_header()},
    "no scope at all": {SCOPE_HEADER: None},
    "another purpose": {PURPOSE_HEADER: "statistics"},
    "another partner": {PARTNER_HEADER: "mef"},
    "an added operator": {OPERATOR_HEADER: "nssf"},
    "a header the gateway never sends": {"X-Tonle-Admin": "1"},
}


@pytest.mark.parametrize("change", HEADER_CHANGES.values(), ids=HEADER_CHANGES.keys())
async def test_a_changed_added_or_removed_x_tonle_header_gets_401(
    stack: Stack, change: dict[str, str | None]
) -> None:
    captured = await stack.capture("identity", PEOPLE_BODY)
    names = {n.lower(): n for n, _ in captured.headers}
    change = {names.get(n.lower(), n): v for n, v in change.items()}
    tampered = captured.with_headers(change)
    assert_refused(
        await stack.send(stack.identity, captured, headers=tampered), reason="bad signature"
    )
    assert_answered(await stack.send(stack.identity, captured))


async def test_an_x_tonle_header_sent_twice_gets_401(stack: Stack) -> None:
    captured = await stack.capture("identity", PEOPLE_BODY)
    twice = (*captured.headers, (SCOPE_HEADER, RowScope(areas=("01",)).to_header()))
    assert_refused(
        await stack.send(stack.identity, captured, headers=twice), reason="bad signature"
    )


async def test_get_with_the_attackers_query_gets_405_with_or_without_a_signature(
    stack: Stack,
) -> None:
    captured = await stack.capture("identity", PEOPLE_BODY)
    for headers in (captured.headers, (("Accept", "application/json"),)):
        async with stack.session.get(
            stack.identity + "/graphql", params={"query": EVERYTHING}, headers=list(headers)
        ) as response:
            answer = Answer(response.status, dict(response.headers), await response.read())
        assert_refused(answer, 405, reason="only POST")
        assert answer.headers["Allow"] == "POST"
    variables = orjson.loads(NSSF_BODY)["variables"]
    nssf_get = {"query": NSSF_ENTITIES, "variables": orjson.dumps(variables).decode()}
    async with stack.session.get(stack.nssf + "/graphql", params=nssf_get) as response:
        answer = Answer(response.status, dict(response.headers), await response.read())
    assert_refused(answer, 405)
    assert stack.sandbox.stats.requests == 0  # no GraphQL ran, so no operator call
    # the captured POST was never used up by those attempts
    assert_answered(await stack.send(stack.identity, captured))


async def test_another_method_with_a_captured_request_gets_405(stack: Stack) -> None:
    captured = await stack.capture("identity", PEOPLE_BODY)
    for method in ("PUT", "PATCH", "DELETE"):
        answer = await stack.send(stack.identity, captured, method=method)
        assert_refused(answer, 405)
        assert answer.headers["Allow"] == "POST"


async def test_another_path_or_query_string_gets_401(stack: Stack) -> None:
    captured = await stack.capture("identity", PEOPLE_BODY)
    for target in ("/graphql?debug=1", "/graphql/", "/graphql?query=%7B__typename%7D"):
        answer = await stack.send(stack.identity, captured, target=target)
        assert_refused(answer, reason="bad signature")
    with_query = await stack.capture("identity", PEOPLE_BODY, path="/graphql?tenant=a")
    assert with_query.target == "/graphql?tenant=a"
    assert_refused(await stack.send(stack.identity, with_query, target="/graphql"), reason="bad")
    assert_refused(
        await stack.send(stack.identity, with_query, target="/graphql?tenant=b"), reason="bad"
    )
    assert_answered(await stack.send(stack.identity, with_query))
    assert_answered(await stack.send(stack.identity, captured))


# -- what an operator is told about the caller ------------------------------------------------

XROAD_CLIENT = "CAMBODIA/GOV/MOSVY/TONLE"
XROAD_SERVICE = "CAMBODIA/GOV/NSSF/MEMBERS/nssf-api"
CONSOLIDATED = """
query Consolidated($v: String!) {
  people(villageCode: $v, first: 40) { edges { node { spid nssf { memberId } } } }
}
"""


def security_server(provider: str) -> Starlette:
    """A stand-in CamDX security server pair: forwards the call with its X-Road headers."""
    prefix = f"/r1/{XROAD_SERVICE}"

    async def forward(request: Request) -> Response:
        passed = {k: v for k, v in request.headers.items() if k.startswith("x-road-")}
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                provider + request.url.path.removeprefix(prefix),
                data=await request.body(),
                headers={"Content-Type": "application/json", **passed},
            ) as answer,
        ):
            return Response(await answer.read(), answer.status, media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", forward, methods=["POST"])])


async def consolidated_view(stack: Stack, caller: Caller) -> dict[str, Any]:
    """One partner request through a real gateway: plan, signed fetches, the caller's headers."""
    services = {"identity": stack.identity, "nssf": stack.nssf}
    gateway = Gateway.from_sdl(await live_supergraph(stack.session, services, SECRET))
    prepared = gateway.prepare(CONSOLIDATED, None)
    variables = gateway.coerce_variables(prepared, {"v": VILLAGE})
    transport = AiohttpTransport(gateway.subgraph_urls(), gateway_secret=SECRET)
    try:
        execution = await execute_plan(prepared.plan, transport, variables, caller.headers())
    finally:
        await transport.close()
    assert not execution.errors
    return execution.data


async def callers(stack: Stack) -> list[dict[str, str]]:
    """What the operator's system was told, as its sandbox recorded it."""
    async with stack.session.get(stack.sandbox_url + "/admin/callers") as response:
        found: list[dict[str, str]] = (await response.json())["callers"]
    return found


@pytest.mark.parametrize("mode", ["direct", "xroad"])
async def test_the_operator_is_told_who_the_call_is_for_and_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    async with running(tmp_path, monkeypatch, xroad=mode == "xroad") as stack:
        data = await consolidated_view(stack, CALLER)
        members = {m.spid: m.member_id for m in nssf_members(POPULATION)}
        nodes = [e["node"] for e in data["people"]["edges"]]
        assert {n["spid"]: (n["nssf"] or {}).get("memberId") for n in nodes} == {
            p.spid: members.get(p.spid) for p in POPULATION.people
        }
        told = await callers(stack)
    assert len(told) == 1  # 40 people, one batch
    expected = {
        "method": "POST",
        "x-road-userid": "moh/nurse-7",
        "x-road-issue": "eligibility_check",
        # directly: the partner, as Tonle states it; over X-Road: Tonle's own subsystem,
        # which the security server authenticates (a client cannot claim another's)
        "x-road-client": "moh" if mode == "direct" else XROAD_CLIENT,
    }
    assert told[0] == expected
