"""What every sandbox shares: adjustable latency and failures, and request counters.

They stand in for the real behaviour of operators' systems (slow answers, errors,
outages) so that the subgraphs' timeouts, retries and circuit breakers can be tested.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.bodies import read_json

ADMIN_TOKEN_ENV = "TONLE_SANDBOX_ADMIN_TOKEN"
# Longer is a hang, which has its own switch (and asyncio cannot sleep for ever).
MAX_DELAY_MS = 3_600_000


@dataclass
class Faults:
    """Behaviour to inject; changed at run time through ``POST /admin/config``."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    hang: bool = False
    outage: bool = False

    @classmethod
    def from_env(cls, prefix: str) -> Faults:
        """Read ``<PREFIX>_LATENCY_MS``, ``_JITTER_MS``, ``_ERROR_RATE``, ``_HANG``, ``_OUTAGE``."""

        def number(name: str) -> float:
            raw = os.environ.get(f"{prefix}_{name}", "")
            try:
                return float(raw) if raw else 0.0
            except ValueError:
                raise SystemExit(f"{prefix}_{name}={raw!r} is not a number") from None

        def flag(name: str) -> bool:
            return os.environ.get(f"{prefix}_{name}", "") in ("1", "true", "yes")

        error_rate = number("ERROR_RATE")
        if not 0 <= error_rate <= 1:
            raise SystemExit(f"{prefix}_ERROR_RATE={error_rate:g}: give a share between 0 and 1")
        return cls(
            latency_ms=number("LATENCY_MS"),
            jitter_ms=number("JITTER_MS"),
            error_rate=error_rate,
            hang=flag("HANG"),
            outage=flag("OUTAGE"),
        )

    def update(self, values: dict[str, object]) -> list[str]:
        """Apply the known keys of ``values``; return the problems with the others."""
        known = {f.name: f.type for f in fields(self)}
        problems = []
        for key, value in values.items():
            if key not in known:
                problems.append(f"unknown setting {key!r}; known: {', '.join(known)}")
            elif key in ("hang", "outage"):
                if not isinstance(value, bool):
                    problems.append(f"{key} must be true or false")
                else:
                    setattr(self, key, value)
            elif not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                problems.append(f"{key} must be a number >= 0")
            elif key != "error_rate" and value > MAX_DELAY_MS:
                problems.append(f"{key} is at most {MAX_DELAY_MS:,} ms; use hang for no answer")
            elif key == "error_rate" and value > 1:
                problems.append("error_rate is a share of requests, between 0 and 1")
            else:
                setattr(self, key, float(value))
        return problems


# The headers that say who an operator is called for (docs/operators.md); the last
# requests' values are kept, so that a test can see what the operator received.
CALLER_HEADERS = ("x-road-client", "x-road-userid", "x-road-issue")
CALLERS_KEPT = 50


@dataclass
class Stats:
    """Requests served, for tests and benchmarks to count calls."""

    requests: int = 0
    batch_requests: int = 0
    spids_requested: int = 0
    # Calls whose caller hung up while an injected delay or hang held them back.
    abandoned: int = 0
    by_path: dict[str, int] = field(default_factory=dict)
    # Only the method and the caller headers: no path (it may hold a SPID), no body.
    callers: deque[dict[str, str]] = field(default_factory=lambda: deque(maxlen=CALLERS_KEPT))

    def record_caller(self, scope: Scope) -> None:
        seen = {"method": str(scope.get("method", ""))}
        for name, value in scope.get("headers", ()):
            key = name.decode("latin-1")
            if key in CALLER_HEADERS:
                seen[key] = value.decode("utf-8", "replace")
        self.callers.append(seen)

    def as_dict(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "batch_requests": self.batch_requests,
            "spids_requested": self.spids_requested,
            "abandoned": self.abandoned,
            "by_path": dict(self.by_path),
        }


class FaultInjection:
    """ASGI middleware applying :class:`Faults` to requests outside ``/admin`` and ``/health``."""

    def __init__(self, app: ASGIApp, faults: Faults, stats: Stats) -> None:
        self.app = app
        self.faults = faults
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(("/admin", "/health", "/openapi")):
            await self.app(scope, receive, send)
            return
        self.stats.requests += 1
        self.stats.by_path[path] = self.stats.by_path.get(path, 0) + 1
        self.stats.record_caller(scope)
        faults = self.faults
        if faults.outage:
            await _error(503, "the service is down (injected outage)")(scope, receive, send)
            return
        delay = faults.latency_ms + (random.uniform(0, faults.jitter_ms) if faults.jitter_ms else 0)
        if faults.hang or delay > 0:
            held = await self._hold(receive, None if faults.hang else delay / 1000)
            if held is None:
                self.stats.abandoned += 1
                return
            receive = held
        if faults.error_rate and random.random() < faults.error_rate:
            await _error(500, "internal error (injected)")(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _hold(self, receive: Receive, seconds: float | None) -> Receive | None:
        """Hold the call back ``seconds`` (None: for ever) as a slow system would, but
        notice its caller hanging up; the body is read first and given to the app after."""
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        # After the body, the server's next message is the hang-up.
        hung_up = asyncio.ensure_future(receive())
        done, _ = await asyncio.wait({hung_up}, timeout=seconds)
        if done:
            return None
        hung_up.cancel()
        body: Message | None = {"type": "http.request", "body": b"".join(chunks)}

        async def replay() -> Message:
            nonlocal body
            if body is None:
                return await receive()
            message, body = body, None
            return message

        return replay


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _admin_refusal() -> Response:
    return JSONResponse(
        {"error": f"/admin needs Authorization: Bearer <the token set in {ADMIN_TOKEN_ENV}>"},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


Handler = Callable[[Request], Awaitable[Response]]


def admin_routes(faults: Faults, stats: Stats, token: str | None = None) -> list[BaseRoute]:
    """The admin endpoints every sandbox has.

    ``GET /admin/stats``, ``GET /admin/callers``, ``POST /admin/reset-stats``,
    ``GET|POST /admin/config``. With ``token`` (``TONLE_SANDBOX_ADMIN_TOKEN``) they answer
    only ``Authorization: Bearer <token>``, 401 otherwise.
    """

    async def get_stats(_: Request) -> Response:
        return JSONResponse(stats.as_dict())

    async def get_callers(_: Request) -> Response:
        return JSONResponse({"callers": list(stats.callers)})

    async def reset_stats(_: Request) -> Response:
        stats.requests = stats.batch_requests = stats.spids_requested = stats.abandoned = 0
        stats.by_path.clear()
        stats.callers.clear()
        return JSONResponse(stats.as_dict())

    async def config(request: Request) -> Response:
        if request.method == "POST":
            values = await read_json(request, "the settings as a JSON object")
            if isinstance(values, Response):
                return values
            if not isinstance(values, dict):
                return _error(400, "send the settings as a JSON object")
            problems = faults.update(values)
            if problems:
                return JSONResponse({"error": "; ".join(problems)}, status_code=400)
        return JSONResponse({f.name: getattr(faults, f.name) for f in fields(faults)})

    def guarded(handler: Handler) -> Handler:
        if not token:
            return handler
        expected = f"Bearer {token}".encode()

        async def check(request: Request) -> Response:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return _admin_refusal()
            return await handler(request)

        return check

    return [
        Route("/admin/stats", guarded(get_stats)),
        Route("/admin/callers", guarded(get_callers)),
        Route("/admin/reset-stats", guarded(reset_stats), methods=["POST"]),
        Route("/admin/config", guarded(config), methods=["GET", "POST"]),
    ]
