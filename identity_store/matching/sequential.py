"""Registration decisions one record at a time, in memory: the registry's logic, unstored.

The registry does the same with tables (an exact Khmer ID first, then candidates by
blocking key, then :func:`best_match`); this in-memory form lets the benchmark and the
tests measure those decisions over a generated population without a database.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from identity_store.matching.best import MatchResult, best_match
from identity_store.matching.blocking import blocking_keys
from identity_store.matching.model import MatchModel
from identity_store.matching.record import MatchRecord
from identity_store.matching.score import Decision


@dataclass(frozen=True)
class Registered:
    """Which person a record was registered as, and why."""

    person: int  # index of the person, in order of first registration
    decision: Decision | None  # None: an exact Khmer ID match, decided before scoring
    result: MatchResult | None


class InMemoryRegistry:
    """People as first registered; each new record is matched against them."""

    def __init__(self, model: MatchModel) -> None:
        self.model = model
        self.people: list[MatchRecord] = []
        self._by_key: dict[str, list[int]] = defaultdict(list)
        self._by_khmer_id: dict[str, int] = {}

    def register(self, record: MatchRecord) -> Registered:
        """Decide who ``record`` is; a "review" gets a new (provisional) person."""
        if record.khmer_id and record.khmer_id in self._by_khmer_id:
            return Registered(self._by_khmer_id[record.khmer_id], None, None)
        keys = blocking_keys(record)
        candidates = sorted({i for key in keys for i in self._by_key.get(key, ())})
        result = best_match(record, [self.people[i] for i in candidates], self.model)
        if result.decision == "match" and result.index is not None:
            person = candidates[result.index]
            if record.khmer_id and self.people[person].khmer_id is None:
                self._by_khmer_id[record.khmer_id] = person
            return Registered(person, "match", result)
        person = len(self.people)
        self.people.append(record)
        for key in keys:
            self._by_key[key].append(person)
        if record.khmer_id:
            self._by_khmer_id[record.khmer_id] = person
        return Registered(person, result.decision, result)

    def largest_block(self) -> int:
        """The most people any one blocking key selects."""
        return max((len(v) for v in self._by_key.values()), default=0)
