"""The synthetic population: deterministic, and true to the registry's rules."""

from __future__ import annotations

import datetime as dt

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
    for person in population.people[:200]:
        assert households[person.household_id].village_code == person.village_code
    poor_share = len(population.idpoor_households) / len(population.households)
    assert 0.15 < poor_share < 0.3
    for poor in population.idpoor_households:
        assert poor.level in (1, 2)
        assert poor.valid_until - poor.valid_from == dt.timedelta(days=3 * 365)
