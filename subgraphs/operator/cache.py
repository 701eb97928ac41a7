"""An opt-in, in-memory, short-lived cache of operator answers (off unless configured).

Programme data never lands in a Tonle table; this cache only spares an operator the
same lookup repeated within a few seconds, lives in the subgraph process's memory, and
is gone when the process stops.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class TtlCache:
    """Answers kept for ``ttl_s`` seconds, at most ``max_entries`` of them (oldest out first)."""

    def __init__(
        self,
        ttl_s: float,
        max_entries: int = 10_000,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> tuple[bool, Any]:
        """(True, answer) when a fresh answer is held, else (False, None)."""
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return False, None
        expires, value = entry
        if self.clock() >= expires:
            del self._entries[key]
            self.misses += 1
            return False, None
        self.hits += 1
        return True, value

    def put(self, key: Hashable, value: Any) -> None:
        self._entries[key] = (self.clock() + self.ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
