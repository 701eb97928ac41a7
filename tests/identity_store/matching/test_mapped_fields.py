"""Any mapped columns: comparisons, blocking and training come from the fields a CSV has."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from identity_store.matching import InputError
from identity_store.matching.backlog import MAPPABLE_FIELDS, parse_mapping, read_csv
from identity_store.matching.batch import deduplicate, input_table, plan_for
from sandbox.duplicates import CSV_MAPPING, csv_rows, generate_registrations
from tests.identity_store.matching.public_style import generate_backlog, write_backlog


def precision_recall(result, truth) -> tuple[float, float]:
    found = {(p.id_l, p.id_r) for p in result.pairs}
    hits = len(found & truth)
    return hits / max(len(found), 1), hits / len(truth)


@pytest.fixture(scope="module")
def registrations():
    return generate_registrations(400, seed=41)


@pytest.fixture(scope="module")
def every_field_csv(tmp_path_factory: pytest.TempPathFactory, registrations) -> Path:
    """The generated registrations with a street address, locality, postcode and an
    operator's identifier beside the gazetteer code, as some operators keep them."""
    path = tmp_path_factory.mktemp("fields") / "every_field.csv"
    rows = list(csv_rows(registrations.records))
    for row in rows:
        person = random.Random(row["true_person"])
        own = random.Random(row["rec_id"])
        street = f"{person.randint(1, 300)} street {person.randint(1, 60)}"
        row["address"] = street if own.random() < 0.9 else street.replace("street", "st")
        row["locality"] = (
            f"sangkat {person.choice(['tonle bassac', 'boeng keng kang', 'phsar thmei'])}"
        )
        row["postcode"] = row["village_code"][:6]
        row["external_id"] = f"HEF-{person.randint(10**5, 10**6)}" if own.random() < 0.5 else ""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


EVERY_FIELD = {
    **CSV_MAPPING,
    "address": "address",
    "locality": "locality",
    "postcode": "postcode",
    "external_id": "external_id",
}


def read(path: Path, fields: dict[str, str], id_column: str = "rec_id"):
    return read_csv(path, id_column, parse_mapping([f"{f}={c}" for f, c in fields.items()]))


def test_every_mappable_field_is_compared_blocked_on_and_trained(
    every_field_csv: Path, registrations
) -> None:
    assert set(EVERY_FIELD) == set(MAPPABLE_FIELDS)
    batch = read(every_field_csv, EVERY_FIELD)
    plan = plan_for(input_table(batch), training=True)
    assert set(plan.comparisons) == {
        "family_name", "given_name", "birth_date", "sex", "village", "phone", "khmer_id",
        "external_id", "address", "locality", "postcode",
    }  # fmt: skip
    assert {"nb", "kb", "av", "p", "k", "np", "nl", "aa", "e"} <= set(plan.blocking)
    result = deduplicate(batch, threshold=0.9, seed=2)
    assert set(result.model.levels) == set(plan.comparisons)
    precision, recall = precision_recall(result, registrations.true_pairs())
    assert precision >= 0.95 and recall >= 0.9, (precision, recall)


def test_only_names_and_a_birth_date(tmp_path: Path, registrations) -> None:
    batch = read(
        _csv(tmp_path, registrations),
        {"family_name": "surname", "given_name": "given", "birth_date": "dob"},
    )
    plan = plan_for(input_table(batch), training=True)
    assert plan.comparisons == ("family_name", "given_name", "birth_date")
    assert [rule.description for rule in plan.em_rules] == ["the same birth date", "the same names"]
    assert set(plan.blocking) == {"nb", "ad", "zd"}
    result = deduplicate(batch, threshold=0.9, seed=2)
    precision, recall = precision_recall(result, registrations.true_pairs())
    assert precision >= 0.9 and recall >= 0.6, (precision, recall)
    assert set(result.clusters) == set(batch.ids)


def test_only_names_and_an_address(tmp_path: Path) -> None:
    backlog = generate_backlog(originals=1500, duplicates=400, seed=5)
    path = write_backlog(backlog, tmp_path / "public.csv")
    batch = read(
        path, {"given_name": "given_name", "family_name": "surname", "address": "address_1"}
    )
    plan = plan_for(input_table(batch), training=True)
    assert plan.comparisons == ("family_name", "given_name", "address")
    assert [rule.description for rule in plan.em_rules] == ["the same address", "the same names"]
    assert set(plan.blocking) == {"aa", "za"}
    result = deduplicate(batch, threshold=0.9, seed=2)
    precision, recall = precision_recall(result, backlog.true_pairs)
    assert precision >= 0.9 and recall >= 0.6, (precision, recall)


def _csv(tmp_path: Path, registrations) -> Path:
    path = tmp_path / "registrations.csv"
    rows = list(csv_rows(registrations.records))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_names_alone_give_nothing_to_block_on(tmp_path: Path, registrations) -> None:
    fields = {"family_name": "surname", "given_name": "given", "sex": "sex"}
    batch = read(_csv(tmp_path, registrations), fields)
    with pytest.raises(InputError) as error:
        deduplicate(batch)
    assert str(error.value) == (
        "nothing to block on: the fields with values (family_name, given_name, sex) give no"
        " blocking key. A key pairs the names (family_name and given_name, or the Khmer names)"
        " with one of birth_date, village_code, address, locality, postcode, phone, khmer_id,"
        " external_id, or is an identifier (khmer_id, phone, external_id): map one more"
    )


def test_too_little_to_train_on_says_which_fields_to_add(tmp_path: Path) -> None:
    # Names repeat, but no two records share a birth date: nothing estimates the names.
    path = tmp_path / "small.csv"
    lines = ["id,fam,giv,dob"]
    lines += [f"{n},{['Sok', 'Chea', 'Ly'][n % 3]},Dara,{1950 + n}-01-01" for n in range(60)]
    path.write_text("\n".join(lines) + "\n")
    batch = read(path, {"family_name": "fam", "given_name": "giv", "birth_date": "dob"}, "id")
    with pytest.raises(InputError) as error:
        deduplicate(batch)
    assert str(error.value) == (
        "too little to train on: family_name, given_name cannot be estimated from the fields"
        " mapped, because no other field agrees on enough pairs of records. Map at least one"
        " more of village_code, address, locality, postcode, phone, khmer_id, external_id, or"
        " give a trained --model"
    )
