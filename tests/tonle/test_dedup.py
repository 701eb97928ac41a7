"""``tonle dedup``: a real splink run on a small generated CSV, and every refusal."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from identity_store.matching import MatchModel
from sandbox.duplicates import CSV_MAPPING, generate_registrations, write_csv
from tests.identity_store.matching.public_style import (
    PUBLIC_MAPPING,
    Backlog,
    generate_backlog,
    write_backlog,
)
from tonle.cli import main

MAPS = [arg for field, column in CSV_MAPPING.items() for arg in ("--map", f"{field}={column}")]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, frozenset[tuple[str, str]]]:
    data = generate_registrations(250, seed=8)
    path = tmp_path_factory.mktemp("dedup") / "registrations.csv"
    write_csv(data.records, path)
    return path, data.true_pairs()


def test_dedup_writes_pairs_clusters_and_a_model(
    tmp_path: Path,
    generated: tuple[Path, frozenset[tuple[str, str]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, truth = generated
    pairs, clusters, model = tmp_path / "pairs.csv", tmp_path / "clusters.csv", tmp_path / "m.json"
    args = ["dedup", str(source), "--id-column", "rec_id", *MAPS]
    outputs = ["--pairs", str(pairs), "--clusters", str(clusters), "--model-out", str(model)]
    assert main([*args, *outputs]) == 0
    assert "estimating m by expectation maximisation" in capsys.readouterr().err
    with pairs.open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows and set(rows[0]) == {"id_l", "id_r", "match_probability"}
    found = {(r["id_l"], r["id_r"]) for r in rows}
    assert len(found & truth) / len(found) > 0.9
    assert all(float(r["match_probability"]) >= 0.97 for r in rows)
    with clusters.open() as handle:
        members = {r["id"]: r["cluster_id"] for r in csv.DictReader(handle)}
    assert all(members[a] == members[b] for a, b in found)
    trained = MatchModel.load(model)
    assert json.loads(model.read_text())["format"] == "tonle-match-model/1"
    # the saved model runs again without training, and finds the same pairs
    again = tmp_path / "again.csv"
    rerun = ["--pairs", str(again), "--clusters", str(clusters), "--model", str(model), "--quiet"]
    assert main([*args, *rerun, "--threshold", str(trained.upper)]) == 0
    assert capsys.readouterr().err == ""
    assert again.read_text() == pairs.read_text()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--map", "surname=surname"], "'surname' is not a field"),
        (["--map", "postcode=zip"], "postcode=zip names a column the file does not have"),
        (["--id-column", "id"], "no id column 'id'"),
        (["--threshold", "1.5"], "threshold 1.5 must be between 0 and 1"),
        (["--model", "missing.json"], "--model missing.json"),
        (["--spark-conf", "a=b"], "--spark-conf and --spark-checkpoint-dir go with --engine spark"),
        (
            ["--engine", "spark", "--spark-master", "spark://head:7077"],
            "give --spark-checkpoint-dir on storage every executor reaches",
        ),
    ],
)
def test_bad_arguments_are_refused_clearly(
    tmp_path: Path,
    generated: tuple[Path, frozenset[tuple[str, str]]],
    capsys: pytest.CaptureFixture[str],
    change: list[str],
    message: str,
) -> None:
    source, _ = generated
    args = ["dedup", str(source), "--id-column", "rec_id", *MAPS]
    args += ["--pairs", str(tmp_path / "p.csv"), "--clusters", str(tmp_path / "c.csv"), *change]
    if change[0] == "--id-column":
        args = ["dedup", str(source), *MAPS, *args[4 + len(MAPS) :]]
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize(
    ("rows", "strict", "message"),
    [
        ("a,Sok,1985\nb,Chea,1990\na,Ly,1970\n", [], "row 4: duplicate id 'a'"),
        ("a,Sok,1985\nb,Chea,1990-02-30\n", ["--strict"], "row 3, column 'dob': not a real date"),
    ],
)
def test_bad_rows_are_refused_with_their_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: str, strict: list[str], message: str
) -> None:
    source = tmp_path / "in.csv"
    source.write_text("rec_id,surname,dob\n" + rows)
    args = ["dedup", str(source), "--id-column", "rec_id", "--map", "family_name=surname", *strict]
    args += ["--map", "birth_date=dob", "--pairs", str(tmp_path / "p.csv")]
    assert main([*args, "--clusters", str(tmp_path / "c.csv")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "1990-02-30" not in err


@pytest.fixture(scope="module")
def public_backlog():
    return generate_backlog(originals=4000, duplicates=1000, seed=13)


def _found_pairs(path: Path) -> set[tuple[str, str]]:
    with path.open() as handle:
        return {(r["id_l"], r["id_r"]) for r in csv.DictReader(handle)}


def test_an_impossible_date_in_a_public_style_backlog_is_read_as_missing_and_reported(
    tmp_path: Path, public_backlog, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [dict(row) for row in public_backlog.rows]
    rows[103]["date_of_birth"] = "19551192"  # row 105 of the file, after the header
    source = write_backlog(Backlog(rows, public_backlog.true_pairs), tmp_path / "public.csv")
    pairs, clusters = tmp_path / "pairs.csv", tmp_path / "clusters.csv"
    args = ["dedup", str(source), "--id-column", "rec_id", *PUBLIC_MAPPING]
    assert main([*args, "--pairs", str(pairs), "--clusters", str(clusters)]) == 0
    err = capsys.readouterr().err
    assert "column 'date_of_birth' (birth_date): 1 value could not be read" in err
    assert "row 105: not a real date" in err
    assert "19551192" not in err
    with clusters.open() as handle:
        assert [r["id"] for r in csv.DictReader(handle)] == [r["rec_id"] for r in rows]
    found = _found_pairs(pairs)
    assert len(found & public_backlog.true_pairs) / len(found) >= 0.98


def test_a_backlog_with_addresses_and_no_village_trains_on_what_is_mapped(
    tmp_path: Path, public_backlog, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_backlog(public_backlog, tmp_path / "public.csv")
    pairs, clusters = tmp_path / "pairs.csv", tmp_path / "clusters.csv"
    args = ["dedup", str(source), "--id-column", "rec_id", *PUBLIC_MAPPING]
    assert main([*args, "--pairs", str(pairs), "--clusters", str(clusters)]) == 0
    assert "Traceback" not in capsys.readouterr().err
    found, truth = _found_pairs(pairs), public_backlog.true_pairs
    precision, recall = len(found & truth) / len(found), len(found & truth) / len(truth)
    assert precision >= 0.98 and recall >= 0.9, (precision, recall)
