"""Generated registrations: deterministic, with the duplicates they claim to have."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter

from identity_store.matching.normalize import romanization_key
from sandbox.duplicates import (
    CSV_COLUMNS,
    generate_registrations,
    romanization_variant,
    typo,
    write_csv,
)
from sandbox.population import FAMILY_NAMES, generate_population


def test_the_same_seed_gives_the_same_registrations() -> None:
    assert generate_registrations(300, seed=2) == generate_registrations(300, seed=2)
    assert generate_registrations(300, seed=2) != generate_registrations(300, seed=3)


def test_every_person_is_registered_and_about_a_quarter_again() -> None:
    data = generate_registrations(2000, seed=5)
    per_person = Counter(r.person_spid for r in data.records)
    assert set(per_person) == {p.spid for p in data.people}
    assert 0.18 < sum(n > 1 for n in per_person.values()) / len(per_person) < 0.32
    assert len({r.rec_id for r in data.records}) == len(data.records)
    assert len(data.true_pairs()) == sum(n * (n - 1) // 2 for n in per_person.values())


def test_duplicates_carry_the_variants_people_write() -> None:
    data = generate_registrations(3000, seed=1)
    done = Counter(change for r in data.records for change in r.perturbations)
    for change in ("romanization", "swapped", "typo", "year_only", "moved", "khmer_script"):
        assert done[change] > 10, change
    year_only = [r for r in data.records if "year_only" in r.perturbations]
    assert all(r.birth_precision == "year" for r in year_only)


def test_the_population_underneath_is_the_usual_one() -> None:
    data = generate_registrations(400, seed=4)
    assert [p.spid for p in data.people] == [p.spid for p in generate_population(400, 4).people]


def test_romanization_variants_keep_the_key() -> None:
    rng = random.Random(0)
    for name, _ in FAMILY_NAMES:
        for _ in range(5):
            variant = romanization_variant(name, rng)
            assert romanization_key(variant) == romanization_key(name), (name, variant)


def test_a_typo_changes_one_thing() -> None:
    rng = random.Random(1)
    for _ in range(50):
        changed = typo("Bunthoeun", rng)
        assert changed[0] == "B"
        assert abs(len(changed) - len("Bunthoeun")) <= 1


def test_csv_export_has_operators_formats_and_the_truth() -> None:
    data = generate_registrations(200, seed=6)
    out = io.StringIO()
    write_csv(data.records, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == len(data.records)
    dobs = [row["dob"] for row in rows]
    assert any("/" in d for d in dobs) and any("-" in d for d in dobs)
    assert any(len(d) == 4 for d in dobs) and any(len(d) == 8 and d.isdigit() for d in dobs)
    assert {row["true_person"] for row in rows} == {p.spid for p in data.people}
