"""What an operator client knows of its operator, read at each ``/metrics`` scrape."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from subgraphs.operator.breaker import BreakerState
from subgraphs.operator.client import OperatorClient


class OperatorStateCollector(Collector):
    """The breaker's state and the cache's hits and misses, straight from the client."""

    def __init__(self, client: OperatorClient) -> None:
        self.client = client

    def collect(self) -> Iterator[Metric]:
        operator = self.client.settings.operator
        state = self.client.breaker.state
        breaker = GaugeMetricFamily(
            "tonle_operator_circuit_state",
            "1 for the circuit breaker's current state (closed, open, half_open), else 0.",
            labels=["operator", "state"],
        )
        for each in BreakerState:
            breaker.add_metric([operator, each.value], 1.0 if each is state else 0.0)
        yield breaker
        cache = self.client.cache
        for name, text, value in (
            (
                "hits",
                "Lookups answered from the opt-in cache (always 0 while it is off).",
                cache.hits,
            ),
            (
                "misses",
                "Lookups the opt-in cache could not answer (0 while it is off).",
                cache.misses,
            ),
        ):
            family = CounterMetricFamily(f"tonle_operator_cache_{name}", text, labels=["operator"])
            family.add_metric([operator], float(value))
            yield family
