"""The gateway's /metrics can be kept to the bearer of a token."""

from __future__ import annotations

from contextlib import AsyncExitStack

from tests.gateway.classic import SUBGRAPHS, supergraph_sdl
from tests.gateway.conftest import start_stack


async def test_metrics_answer_only_the_bearer_of_the_metrics_token() -> None:
    async with AsyncExitStack() as stack:
        s = await start_stack(
            SUBGRAPHS,
            supergraph_sdl,
            stack=stack,
            gateway_kwargs={"metrics_token": "metrics-token"},
        )
        await s.query("{ topProducts { name } }")
        url = s.gateway_url + "/metrics"
        for headers in ({}, {"Authorization": "Bearer nope"}, {"X-Api-Key": "metrics-token"}):
            async with s.session.get(url, headers=headers) as response:
                assert response.status == 401, headers
                assert response.headers["WWW-Authenticate"] == "Bearer"
                assert "TONLE_METRICS_TOKEN" in (await response.json())["error"]
        bearer = {"Authorization": "Bearer metrics-token"}
        async with s.session.get(url, headers=bearer) as response:
            assert response.status == 200
            assert 'tonle_subgraph_requests_total{subgraph="products"} 1.0' in (
                await response.text()
            )
        async with s.session.get(s.gateway_url + "/health") as response:
            assert response.status == 200  # probes need no token
