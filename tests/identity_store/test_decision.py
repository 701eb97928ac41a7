"""The pure decision: Khmer ID first, then the model's thresholds over the best candidate."""

from __future__ import annotations

import dataclasses
import datetime as dt

from identity_store import Candidate, decide
from identity_store.decision import card_score
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


def test_the_same_khmer_id_links_when_names_and_birth_date_confirm_it() -> None:
    holder = dataclasses.replace(SOK, khmer_id="123456789", family_name="Sokh")
    # Moved to another province, another phone: the card's fields still agree.
    record = dataclasses.replace(
        SOK, khmer_id="123456789", village_code="12010101", phone="098765432"
    )
    candidates = [Candidate("A", "A", None, CHAN), Candidate("B", "S", "123456789", holder)]
    decision = decide(record, "123456789", candidates, MatchModel.default())
    assert (decision.outcome, decision.spid, decision.khmer_id_claimed) == ("khmer_id", "S", False)


def test_the_same_khmer_id_with_other_names_and_birth_date_is_a_review() -> None:
    holder = dataclasses.replace(CHAN, khmer_id="123456789")
    # Everything but the card's own fields agrees with the holder: still not enough.
    record = dataclasses.replace(
        SOK, khmer_id="123456789", village_code=CHAN.village_code, phone=CHAN.phone
    )
    model = MatchModel.default()
    decision = decide(record, "123456789", [Candidate("B", "S", "123456789", holder)], model)
    assert (decision.outcome, decision.spid, decision.khmer_id_claimed) == ("review", "S", True)
    assert decision.score == card_score(model, record, holder)
    assert model.decide(card_score(model, record, holder)) != "match"


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
