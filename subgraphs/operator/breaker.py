"""A circuit breaker: after repeated failures, fail fast instead of waiting on a dead system."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable


class BreakerState(enum.Enum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls fail at once until the cool-down is over
    HALF_OPEN = "half_open"  # one trial call goes through; its outcome decides


class CircuitBreaker:
    """Opens after ``failures`` consecutive failures; lets one trial through after ``reset_s``.

    Pure bookkeeping, no I/O: the caller asks :meth:`allow` before a call and reports
    the outcome with :meth:`succeeded` or :meth:`failed`.
    """

    def __init__(
        self,
        failures: int = 5,
        reset_s: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = failures
        self.reset_s = reset_s
        self.clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self.clock() - self._opened_at < self.reset_s:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def retry_after_s(self) -> float:
        """Seconds until a trial call will be let through (0 when closed)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.reset_s - (self.clock() - self._opened_at))

    def allow(self) -> bool:
        """Whether a call may go out now; in half-open state, only the one trial call."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN or self._trial_running:
            return False
        self._trial_running = True
        return True

    def succeeded(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def failed(self) -> None:
        self._failures += 1
        if self._trial_running or self._failures >= self.threshold:
            self._opened_at = self.clock()
        self._trial_running = False
