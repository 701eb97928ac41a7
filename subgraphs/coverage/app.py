"""The coverage subgraph's app: each ``coverage`` pages through the gateway as its caller.

The gateway sends this subgraph, with the partner's request, a delegation token
(policies/delegation.py); the resolver spends one use of it per request it sends back to
the gateway (``TONLE_COVERAGE_GATEWAY_URL``), so the partner's agreement, masks, row scope,
rate budgets and access log apply to every page exactly as to the partner's own requests.
The subgraph holds no key and keeps nothing: a report lives as long as its request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp

from analysts.coverage import CoverageReport
from analysts.coverage_run import count_coverage
from analysts.gateway_client import Caller, GatewayClient
from policies import Caller as SignedCaller
from policies.delegation import DELEGATION_HEADER, Delegation, DelegationError
from subgraphs.coverage.schema import CoverageRequest, CoverageUnavailable, schema
from subgraphs.server import build_subgraph_app

GATEWAY_URL_ENV = "TONLE_COVERAGE_GATEWAY_URL"
PORT = 4006
# Within the gateway's own request timeout (30 s), which bounds the partner's request.
TIMEOUT_S = 25.0


@dataclass(frozen=True)
class DelegatedCaller(Caller):
    """The partner as this subgraph asks for it: a fresh use of the delegation per request."""

    delegation: Delegation | None = None

    def headers(self) -> dict[str, str]:
        assert self.delegation is not None
        return self.delegation.headers()


@dataclass(frozen=True)
class CoverageContext:
    gateway_url: str
    caller: SignedCaller
    token: str | None
    page_size: int

    async def report(self, asked: CoverageRequest) -> CoverageReport:
        caller = self.caller
        try:
            delegation = Delegation.from_token(
                self.token, caller.partner, caller.purpose, caller.end_user
            )
        except DelegationError as error:
            raise CoverageUnavailable(f"coverage is unavailable: {error}") from None
        delegated = DelegatedCaller(
            self.gateway_url, "", delegation.purpose, delegation.end_user, delegation
        )
        async with GatewayClient(delegated, timeout_s=TIMEOUT_S) as client:
            counts = await count_coverage(
                client, asked.area_code, asked.period, asked.by, page_size=self.page_size
            )
        # Only the suppressed figures leave this process.
        return counts.publish()


def create_app(
    gateway_url: str | None = None, *, gateway_secret: str | None = None, page_size: int = 10_000
) -> ASGIApp:
    """The coverage subgraph, asking the gateway at ``gateway_url`` (its /graphql URL)."""
    url = gateway_url or os.environ.get(GATEWAY_URL_ENV)
    if not url:
        raise SystemExit(
            f"the coverage subgraph pages through the gateway: give its /graphql URL "
            f"({GATEWAY_URL_ENV} or --gateway-url)"
        )

    def context(request: Request) -> CoverageContext:
        return CoverageContext(
            url,
            SignedCaller.from_headers(request.headers),
            request.headers.get(DELEGATION_HEADER),
            page_size,
        )

    return build_subgraph_app(
        schema, name="coverage", context_getter=context, gateway_secret=gateway_secret
    )
