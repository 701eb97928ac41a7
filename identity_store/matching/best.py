"""The best match for a new record among candidates, and the decision it leads to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from identity_store.matching.model import MatchModel
from identity_store.matching.record import MatchRecord
from identity_store.matching.score import Decision, MatchScore


@dataclass(frozen=True)
class MatchResult:
    """Which candidate scored best (``None`` when there were none), its score, the decision.

    The index is set even when the decision is "new", so the caller can show how close
    the nearest person came.
    """

    index: int | None
    score: MatchScore | None
    decision: Decision


def best_match(
    record: MatchRecord, candidates: Sequence[MatchRecord], model: MatchModel
) -> MatchResult:
    """Score ``record`` against every candidate; decide on the highest score.

    Ties go to the earlier candidate, so the caller's order (say, oldest SPID first)
    settles them. No candidates: a new person.
    """
    best_index: int | None = None
    best_score: MatchScore | None = None
    for index, candidate in enumerate(candidates):
        score = model.score(record, candidate)
        if best_score is None or score.weight > best_score.weight:
            best_index, best_score = index, score
    if best_score is None:
        return MatchResult(None, None, "new")
    return MatchResult(best_index, best_score, model.decide(best_score))
