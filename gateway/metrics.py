"""Prometheus metrics of one gateway instance."""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)


class GatewayMetrics:
    """Counters and histograms, in a registry of their own so that apps do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # process_resident_memory_bytes and friends: memory under load is an operations figure.
        ProcessCollector(registry=self.registry)
        self.subgraph_requests = Counter(
            "tonle_subgraph_requests",
            "Requests sent to each subgraph.",
            ["subgraph"],
            registry=self.registry,
        )
        self.requests = Counter(
            "tonle_gateway_requests",
            "GraphQL requests answered, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self._children: dict[str, Any] = {}
        self.latency = Histogram(
            "tonle_gateway_request_seconds",
            "Time to answer a GraphQL request.",
            registry=self.registry,
        )

    def subgraph_request(self, subgraph: str) -> None:
        child = self._children.get(subgraph)
        if child is None:
            child = self._children[subgraph] = self.subgraph_requests.labels(subgraph=subgraph)
        child.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
