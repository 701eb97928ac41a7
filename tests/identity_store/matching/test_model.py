"""The model: one JSON format, scores that add up, decisions by threshold."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from hypothesis import given

from identity_store.matching import MatchModel, MatchRecord, best_match
from tests.identity_store.matching.test_compare import BASE, RECORDS


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = MatchModel.default()
    path = tmp_path / "model.json"
    model.save(path)
    assert MatchModel.load(path) == model
    assert MatchModel.from_json(model.to_json()) == model


def test_a_file_of_another_format_is_refused() -> None:
    with pytest.raises(ValueError, match="tonle-match-model/1"):
        MatchModel.from_json({"format": "splink"})


def test_the_default_model_has_every_identity_comparison() -> None:
    model = MatchModel.default()
    for name in ("family_name", "given_name", "birth_date", "sex", "village", "phone", "khmer_id"):
        assert model.levels[name], name
    assert 0 < model.lower < model.upper < 1


def test_reasons_add_up_to_the_weight() -> None:
    model = MatchModel.default()
    score = model.score(BASE, BASE)
    prior = math.log2(model.prior / (1 - model.prior))
    assert score.weight == pytest.approx(prior + sum(r.weight for r in score.reasons), abs=0.01)
    assert {r.level for r in score.reasons if r.comparison == "address"} == {"missing"}
    assert model.decide(score) == "match"


@given(RECORDS, RECORDS)
def test_scores_are_symmetric_probabilities(a: MatchRecord, b: MatchRecord) -> None:
    model = MatchModel.default()
    score = model.score(a, b)
    assert 0.0 <= score.probability <= 1.0
    assert score.weight == model.score(b, a).weight


def test_best_match_finds_the_variant_among_neighbours() -> None:
    model = MatchModel.default()
    variant = MatchRecord(
        family_name="Dara",
        given_name="Sokh",
        birth_date=dt.date(1985, 1, 1),
        birth_precision="year",
        sex="male",
        village_code="01020304",
    )
    neighbour = MatchRecord(
        family_name="Sok",
        given_name="Rotha",
        birth_date=dt.date(1985, 6, 1),
        sex="male",
        village_code="01020304",
    )
    result = best_match(variant, [neighbour, BASE], model)
    assert result.index == 1
    assert result.decision == "match"
    assert result.score is not None and result.score.probability >= model.upper


def test_best_match_without_candidates_is_a_new_person() -> None:
    result = best_match(BASE, [], MatchModel.default())
    assert (result.index, result.score, result.decision) == (None, None, "new")


def test_a_stranger_is_a_new_person() -> None:
    stranger = MatchRecord(
        family_name="Keo", given_name="Bopha", birth_date=dt.date(2001, 9, 9), sex="female",
        village_code="22020304",
    )  # fmt: skip
    result = best_match(stranger, [BASE], MatchModel.default())
    assert (result.index, result.decision) == (0, "new")
