"""Batch de-duplication: reading CSVs, splink's levels agreeing with Python's, quality."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from identity_store.matching import DEFINITIONS, InputError, MatchModel, parse_birth_date
from identity_store.matching.backlog import BatchInput, parse_mapping, read_csv
from identity_store.matching.batch import deduplicate, input_table
from identity_store.matching.features import features
from identity_store.matching.splink_settings import comparisons
from sandbox.duplicates import CSV_MAPPING, generate_registrations, write_csv

MAPPING = [f"{field}={column}" for field, column in CSV_MAPPING.items()]


@pytest.mark.parametrize(
    ("text", "date", "precision"),
    [
        ("1985-03-04", dt.date(1985, 3, 4), "day"),
        ("19850304", dt.date(1985, 3, 4), "day"),
        ("04/03/1985", dt.date(1985, 3, 4), "day"),
        ("1985-03", dt.date(1985, 3, 1), "month"),
        ("03/1985", dt.date(1985, 3, 1), "month"),
        (" 1985 ", dt.date(1985, 1, 1), "year"),
    ],
)
def test_birth_dates_in_every_accepted_form(text: str, date: dt.date, precision: str) -> None:
    assert parse_birth_date(text) == (date, precision)


@pytest.mark.parametrize("text", ["31/02/1985", "1985-13-01", "March 1985", "85", ""])
def test_a_malformed_date_says_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="date"):
        parse_birth_date(text)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(text)
    return path


def test_reading_a_csv_keeps_precision_and_missing_values(tmp_path: Path) -> None:
    path = write(tmp_path, "id,fam,dob,sex\na,Sok,1985,M\nb,,04/03/1985,\n")
    batch = read_csv(path, "id", parse_mapping(["family_name=fam", "birth_date=dob", "sex=sex"]))
    assert batch.ids == ("a", "b")
    assert batch.records[0].birth_precision == "year"
    assert batch.records[0].sex == "male"
    assert batch.records[1].family_name is None and batch.records[1].sex is None


@pytest.mark.parametrize(
    ("csv_text", "mapping", "message"),
    [
        ("id,fam\na,Sok\n", ["surname=fam"], "'surname' is not a field"),
        ("id,fam\na,Sok\n", ["family_name"], "expected FIELD=COLUMN"),
        ("id,fam\na,Sok\n", ["family_name=surname"], "family_name=surname names a column"),
        ("rec,fam\na,Sok\n", ["family_name=fam"], "no id column 'id'"),
        (
            "id,fam\na,Sok\nb,Chea\na,Ly\n",
            ["family_name=fam"],
            "row 4: duplicate id 'a' \\(first on row 2\\)",
        ),
        ("id,fam\n,Sok\n", ["family_name=fam"], "row 2: the id column 'id' is empty"),
        ("id,fam\n", ["family_name=fam"], "no rows"),
    ],
)
def test_bad_input_says_what_and_where(
    tmp_path: Path, csv_text: str, mapping: list[str], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        read_csv(write(tmp_path, csv_text), "id", parse_mapping(mapping))


@pytest.fixture(scope="module")
def registrations():
    return generate_registrations(300, seed=21)


def batch_of(data) -> BatchInput:
    return BatchInput(
        tuple(r.rec_id for r in data.records), tuple(r.match_record() for r in data.records)
    )


def test_splink_sql_and_python_give_the_same_level_on_every_pair(registrations) -> None:
    batch = batch_of(registrations)
    con = duckdb.connect()
    con.register("records", input_table(batch))
    cases = []
    for comparison in comparisons("duckdb"):
        whens = " ".join(
            f"WHEN {lv['sql_condition']} THEN '{lv['label_for_charts']}'"
            for lv in comparison["comparison_levels"][:-1]
        )
        cases.append(f"CASE {whens} ELSE 'different' END")
    columns = [c[0] for c in con.execute("SELECT * FROM records LIMIT 0").description]
    both = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in columns)
    blocked = " OR ".join(f"l.{c} = r.{c}" for c in columns if c.startswith("bk_"))
    pairs = con.execute(
        f"""
        WITH pairs AS (
            SELECT {both} FROM records l JOIN records r ON l.unique_id < r.unique_id
            WHERE ({blocked}) OR hash(l.unique_id || r.unique_id) % 40 = 0
        )
        SELECT unique_id_l, unique_id_r, {", ".join(cases)} FROM pairs
        """
    ).fetchall()
    index = {rec_id: record for rec_id, record in zip(batch.ids, batch.records, strict=True)}
    seen: set[tuple[str, str]] = set()
    assert len(pairs) > 1000
    for left, right, *sql_levels in pairs:
        a, b = features(index[left]), features(index[right])
        python_levels = [d.level(a, b) for d in DEFINITIONS]
        assert sql_levels == python_levels, (left, right)
        seen.update(zip([d.name for d in DEFINITIONS], python_levels, strict=True))
    for level in ("romanization", "swapped", "fuzzy", "exact", "different"):
        assert ("family_name", level) in seen
    for level in ("exact", "year", "different"):
        assert ("birth_date", level) in seen


def test_splink_scores_pairs_as_the_online_matcher_does(registrations) -> None:
    batch = batch_of(registrations)
    model = MatchModel.default()
    result = deduplicate(batch, threshold=0.01, model=model)
    index = dict(zip(batch.ids, batch.records, strict=True))
    assert len(result.pairs) > 50
    for pair in result.pairs:
        expected = model.score(index[pair.id_l], index[pair.id_r]).probability
        assert pair.match_probability == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_training_on_the_input_finds_its_duplicates(tmp_path: Path, registrations) -> None:
    path = tmp_path / "registrations.csv"
    write_csv(registrations.records, path)
    batch = read_csv(path, "rec_id", parse_mapping(MAPPING))
    result = deduplicate(batch, threshold=0.9, seed=3)
    truth = registrations.true_pairs()
    found = {(p.id_l, p.id_r) for p in result.pairs}
    precision = len(found & truth) / len(found)
    recall = len(found & truth) / len(truth)
    assert precision >= 0.95 and recall >= 0.85, (precision, recall)
    assert result.model.levels["family_name"]["swapped"].weight > 5
    assert set(result.clusters) == set(batch.ids)


def test_too_few_records_to_train_on(registrations) -> None:
    with pytest.raises(InputError, match="too few"):
        deduplicate(BatchInput(("a", "b"), batch_of(registrations).records[:2]))
