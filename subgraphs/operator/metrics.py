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
        hits = CounterMetricFamily(
            "tonle_operator_cache_hits",
            "Lookups answered from the opt-in cache (always 0 while it is off).",
            labels=["operator"],
        )
        hits.add_metric([operator], float(cache.hits))
        yield hits
        misses = CounterMetricFamily(
            "tonle_operator_cache_misses",
            "Lookups the opt-in cache could not answer (0 while it is off: nothing is looked up).",
            labels=["operator"],
        )
        misses.add_metric([operator], float(cache.misses))
        yield misses
