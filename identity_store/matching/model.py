"""A trained Fellegi-Sunter model: m and u per comparison level, a prior, two thresholds.

Both the online matcher and batch de-duplication (splink) read and write this one format,
so that they agree. The package ships a default, trained on a generated population.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from identity_store.matching.compare import DEFINITIONS
from identity_store.matching.features import features
from identity_store.matching.record import MatchRecord
from identity_store.matching.score import Decision, FieldAgreement, MatchScore

FORMAT = "tonle-match-model/1"


@dataclass(frozen=True)
class LevelParameters:
    """P(level | same person) and P(level | different people)."""

    m: float
    u: float

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


@dataclass(frozen=True)
class MatchModel:
    """Parameters per comparison and level, the prior, and the decision thresholds."""

    levels: Mapping[str, Mapping[str, LevelParameters]]
    prior: float  # P(two records drawn at random are the same person)
    upper: float  # match probability at or above which records are the same person
    lower: float  # below which they are different people; in between: a review case

    def score(self, a: MatchRecord, b: MatchRecord) -> MatchScore:
        """Compare ``a`` with ``b`` field by field and add up the weights."""
        total = math.log2(self.prior / (1.0 - self.prior))
        reasons: list[FieldAgreement] = []
        fa, fb = features(a), features(b)
        weights = self._weights
        for definition in DEFINITIONS:
            level = definition.level(fa, fb)
            weight = weights.get((definition.name, level), 0.0)
            total += weight
            reasons.append(FieldAgreement(definition.name, level, round(weight, 3)))
        probability = 1.0 / (1.0 + 2.0 ** (-total))
        return MatchScore(round(total, 3), probability, tuple(reasons))

    @cached_property
    def _weights(self) -> dict[tuple[str, str], float]:
        # A level the model has no parameters for (or "missing") weighs nothing.
        return {
            (name, level): params.weight
            for name, levels in self.levels.items()
            for level, params in levels.items()
            if level != "missing"
        }

    def decide(self, score: MatchScore) -> Decision:
        if score.probability >= self.upper:
            return "match"
        if score.probability >= self.lower:
            return "review"
        return "new"

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "prior": self.prior,
            "upper": self.upper,
            "lower": self.lower,
            "levels": {
                name: {level: {"m": p.m, "u": p.u} for level, p in levels.items()}
                for name, levels in self.levels.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MatchModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a Tonle match model (expected format {FORMAT!r}).")
        return cls(
            levels={
                name: {level: LevelParameters(p["m"], p["u"]) for level, p in levels.items()}
                for name, levels in data["levels"].items()
            },
            prior=data["prior"],
            upper=data["upper"],
            lower=data["lower"],
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> MatchModel:
        return cls.from_json(json.loads(path.read_text()))

    @classmethod
    def default(cls) -> MatchModel:
        """The model shipped with Tonle."""
        text = resources.files("identity_store.matching").joinpath("default_model.json")
        return cls.from_json(json.loads(text.read_text()))
