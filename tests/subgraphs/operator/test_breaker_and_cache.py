"""The circuit breaker's states and the cache's expiry, on a clock the test moves."""

from __future__ import annotations

from subgraphs.operator import BreakerState, CircuitBreaker, TtlCache


def state(breaker: CircuitBreaker) -> BreakerState:
    return breaker.state  # a call, so that mypy does not narrow it between asserts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_consecutive_failures_only() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=3, reset_s=10, clock=clock)
    breaker.failed()
    breaker.failed()
    breaker.succeeded()  # a success resets the count
    breaker.failed()
    breaker.failed()
    assert state(breaker) is BreakerState.CLOSED and breaker.allow()
    breaker.failed()
    assert state(breaker) is BreakerState.OPEN
    assert not breaker.allow()
    assert breaker.retry_after_s() == 10


def test_half_open_lets_one_trial_through_and_its_outcome_decides() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, reset_s=5, clock=clock)
    breaker.failed()
    clock.now += 5
    assert state(breaker) is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()  # only one trial at a time
    breaker.failed()
    assert state(breaker) is BreakerState.OPEN
    clock.now += 5
    assert breaker.allow()
    breaker.succeeded()
    assert state(breaker) is BreakerState.CLOSED
    assert breaker.allow() and breaker.allow()


def test_the_cache_forgets_after_its_ttl_and_keeps_at_most_its_size() -> None:
    clock = Clock()
    cache = TtlCache(ttl_s=2, max_entries=2, clock=clock)
    cache.put("a", 1)
    assert cache.get("a") == (True, 1)
    clock.now += 2
    assert cache.get("a") == (False, None)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert len(cache) == 2
    assert cache.get("a") == (False, None)
    assert cache.get("c") == (True, 3)
