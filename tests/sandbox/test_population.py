"""The synthetic population: deterministic, and true to the registry's rules."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from identity_store import is_valid_spid
from identity_store.gazetteer import villages_by_code
from identity_store.repository import age_on
from sandbox.population import REFERENCE_DATE, generate_population


def test_the_same_seed_gives_the_same_population() -> None:
    assert generate_population(500, seed=3) == generate_population(500, seed=3)
    assert generate_population(500, seed=3) != generate_population(500, seed=4)


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=1, max_value=600), st.integers(min_value=0, max_value=10**6))
def test_every_person_follows_the_registry_rules(size: int, seed: int) -> None:
    population = generate_population(size, seed)
    assert len(population.people) == size
    assert len({p.spid for p in population.people}) == size
    khmer_ids = [p.khmer_id for p in population.people if p.khmer_id]
    assert len(set(khmer_ids)) == len(khmer_ids)
    for p in population.people:
        assert is_valid_spid(p.spid)
        if p.khmer_id is not None:
            assert age_on(p.birth_date, REFERENCE_DATE) >= 15
            assert len(p.khmer_id) == 9
        assert p.sex in ("male", "female")
    members = {spid for h in population.households for spid, _ in h.members}
    assert members == {p.spid for p in population.people}


def test_the_age_structure_and_addresses_look_like_cambodia() -> None:
    population = generate_population(5000, seed=1)
    under_15 = sum(1 for p in population.people if age_on(p.birth_date, REFERENCE_DATE) < 15)
    assert 0.25 < under_15 / 5000 < 0.34
    for village in {p.village_code for p in population.people}:
        assert village in villages_by_code()
    households = {h.household_id: h for h in population.households}
    for person in population.people:
        assert households[person.household_id].village_code == person.village_code
    poor_share = len(population.idpoor_households) / len(population.households)
    assert 0.15 < poor_share < 0.3
    for poor in population.idpoor_households:
        assert poor.level in (1, 2)
        assert poor.valid_until - poor.valid_from == dt.timedelta(days=3 * 365)


def test_the_demo_population_is_concentrated_in_a_few_villages() -> None:
    population = generate_population(2000)
    per_village = Counter(p.village_code for p in population.people)
    assert 20 <= 2000 / len(per_village) <= 60
    assert sorted(per_village.values())[len(per_village) // 2] >= 20


def test_most_adults_have_a_khmer_id_and_no_child_does() -> None:
    population = generate_population(5000, seed=9)
    adults = [p for p in population.people if age_on(p.birth_date, REFERENCE_DATE) >= 15]
    children = [p for p in population.people if age_on(p.birth_date, REFERENCE_DATE) < 15]
    assert sum(p.khmer_id is not None for p in adults) / len(adults) > 0.8
    assert all(p.khmer_id is None for p in children)
    assert all(p.khmer_id is None or p.khmer_id.isdigit() for p in adults)


def test_households_live_in_one_village_and_poor_ones_list_their_members() -> None:
    population = generate_population(3000, seed=4)
    people = {p.spid: p for p in population.people}
    households = {h.household_id: h for h in population.households}
    for household in population.households:
        assert household.members[0][1] == "head"
        assert {people[spid].village_code for spid, _ in household.members} == {
            household.village_code
        }
    cards = [h.equity_card_number for h in population.idpoor_households]
    assert len(set(cards)) == len(cards)
    for poor in population.idpoor_households:
        assert poor.round in ("regular", "on_demand")
        assert poor.member_spids == tuple(s for s, _ in households[poor.household_id].members)


def test_a_national_scale_sample_is_fast() -> None:
    started = time.perf_counter()
    population = generate_population(100_000, seed=1)
    assert len(population.people) == 100_000
    assert time.perf_counter() - started < 10
