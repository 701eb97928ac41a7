"""The result of comparing two records: a Fellegi-Sunter weight and the reasons for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Decision = Literal["match", "review", "new"]


@dataclass(frozen=True)
class FieldAgreement:
    """How one comparison came out, and the weight (log2 of m/u) it contributed."""

    comparison: str  # "family_name", "birth_date", "phone", ...
    level: str  # "exact", "romanization", "swapped", "fuzzy", "year_only", "different", "missing"
    weight: float


@dataclass(frozen=True)
class MatchScore:
    """The total match weight, the match probability it gives, and why."""

    weight: float
    probability: float
    reasons: tuple[FieldAgreement, ...]
