"""De-duplication: comparing identity records, scoring them, and deciding."""

from __future__ import annotations

from identity_store.matching.best import MatchResult, best_match
from identity_store.matching.blocking import (
    BLOCKING_KEY_TYPES,
    blocking_key_values,
    blocking_keys,
    khmer_name_keys,
)
from identity_store.matching.compare import COMPARISONS, DEFINITIONS, ComparisonDefinition, Level
from identity_store.matching.dates import parse_birth_date
from identity_store.matching.errors import InputError, MatchingError
from identity_store.matching.features import Features, features
from identity_store.matching.model import LevelParameters, MatchModel
from identity_store.matching.record import DatePrecision, MatchRecord
from identity_store.matching.score import Decision, FieldAgreement, MatchScore
from identity_store.matching.sequential import InMemoryRegistry, Registered

__all__ = [
    "BLOCKING_KEY_TYPES",
    "COMPARISONS",
    "DEFINITIONS",
    "ComparisonDefinition",
    "DatePrecision",
    "Decision",
    "Features",
    "FieldAgreement",
    "InMemoryRegistry",
    "InputError",
    "Level",
    "LevelParameters",
    "MatchModel",
    "MatchRecord",
    "MatchResult",
    "MatchScore",
    "MatchingError",
    "Registered",
    "best_match",
    "blocking_key_values",
    "blocking_keys",
    "features",
    "khmer_name_keys",
    "parse_birth_date",
]
