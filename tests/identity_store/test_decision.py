"""The pure decision: Khmer ID first, then the model's thresholds over the best candidate."""

from __future__ import annotations

import dataclasses
import datetime as dt

from identity_store import Candidate, decide
from identity_store.matching import MatchModel, MatchRecord

SOK = MatchRecord(
    family_name="Sok",
    given_name="Dara",
    birth_date=dt.date(1990, 5, 17),
    birth_precision="day",
    sex="male",
    village_code="01020101",
    phone="012345678",
)
CHAN = MatchRecord(
    family_name="Chan",
    given_name="Sophea",
    birth_date=dt.date(1971, 2, 3),
    birth_precision="day",
    sex="female",
    village_code="02030405",
)


def test_no_candidate_is_a_new_person() -> None:
    assert decide(SOK, None, [], MatchModel.default()).outcome == "new"


def test_the_same_khmer_id_wins_over_any_name() -> None:
    candidates = [Candidate("A", "A", None, SOK), Candidate("B", "S", "123456789", CHAN)]
    decision = decide(SOK, "123456789", candidates, MatchModel.default())
    assert (decision.outcome, decision.spid) == ("khmer_id", "S")


def test_a_different_khmer_id_is_never_scored() -> None:
    decision = decide(
        SOK, "123456789", [Candidate("A", "A", "987654321", SOK)], MatchModel.default()
    )
    assert decision.outcome == "new"
    assert decision.score is None


def test_the_best_candidate_decides_and_a_merged_one_links_its_survivor() -> None:
    candidates = [Candidate("C", "C", None, CHAN), Candidate("M", "SURVIVOR", None, SOK)]
    decision = decide(SOK, None, candidates, MatchModel.default())
    assert (decision.outcome, decision.spid) == ("match", "SURVIVOR")


def test_between_the_thresholds_is_a_review() -> None:
    model = MatchModel.default()
    p = model.score(SOK, SOK).probability
    strict = dataclasses.replace(
        model, lower=p / 2, upper=min(1.0, p + (1 - p) / 2) if p < 1 else 1.1
    )
    decision = decide(SOK, None, [Candidate("A", "A", None, SOK)], strict)
    assert (decision.outcome, decision.spid) == ("review", "A")
