"""De-duplication: comparing identity records, scoring them, and deciding."""

from __future__ import annotations

from identity_store.matching.blocking import blocking_keys
from identity_store.matching.model import LevelParameters, MatchModel
from identity_store.matching.record import DatePrecision, MatchRecord
from identity_store.matching.score import Decision, FieldAgreement, MatchScore

__all__ = [
    "DatePrecision",
    "Decision",
    "FieldAgreement",
    "LevelParameters",
    "MatchModel",
    "MatchRecord",
    "MatchScore",
    "blocking_keys",
]
