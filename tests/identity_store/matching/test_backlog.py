"""Reading a backlog: values that cannot be read count as missing, by column, with rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from identity_store.matching import InputError, MatchRecord
from identity_store.matching.backlog import FIRST_ROWS, parse_mapping, read_csv

FIELDS = {
    "birth_date": "dob",
    "khmer_id": "kid",
    "phone": "tel",
    "village_code": "village",
    "sex": "sex",
    "family_name": "fam",
    "postcode": "zip",
    "external_id": "ext",
}
GOOD = {
    "dob": "1985-03-04",
    "kid": "012345678",
    "tel": "+855 12 345 678",
    "village": "12010203",
    "sex": "F",
    "fam": "Sok",
    "zip": "12000",
    "ext": "NSSF-991",
}


def backlog(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "backlog.csv"
    lines = [",".join(["id", *GOOD])]
    lines += [
        ",".join([str(n), *(row.get(c, GOOD[c]) for c in GOOD)]) for n, row in enumerate(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read(path: Path, *, strict: bool = False):
    mapping = parse_mapping([f"{field}={column}" for field, column in FIELDS.items()])
    return read_csv(path, "id", mapping, strict=strict)


@pytest.mark.parametrize(
    ("column", "value", "field", "reason"),
    [
        ("dob", "19551192", "birth_date", "not a real date"),
        ("dob", "1985-02-30", "birth_date", "not a real date"),
        ("dob", "March 1985", "birth_date", "not a date in a known form"),
        ("dob", "2999-01-01", "birth_date", "a date in the future"),
        ("kid", "01234567", "khmer_id", "not a Khmer ID (9 digits)"),
        ("kid", "01234567X", "khmer_id", "not a Khmer ID (9 digits)"),
        ("tel", "012 34", "phone", "not a phone number"),
        ("tel", "call 012 345 678", "phone", "not a phone number"),
        ("village", "120102", "village_code", None),  # a commune: readable
        ("village", "1201020", "village_code", "not a gazetteer code"),
        ("village", "Kandal", "village_code", "not a gazetteer code"),
        ("sex", "X", "sex", "not a sex"),
        ("fam", "123", "family_name", "no letters"),
        ("zip", "--", "postcode", "no letters or digits"),
        ("ext", "?", "external_id", "no letters or digits"),
    ],
)
def test_a_value_that_cannot_be_read_is_missing_counted_and_reported(
    tmp_path: Path, column: str, value: str, field: str, reason: str | None
) -> None:
    batch = read(backlog(tmp_path, [{}, {column: value}, {}]))
    assert batch.ids == ("0", "1", "2")
    clean, dirty = batch.records[0], batch.records[1]
    if reason is None:
        assert batch.unreadable == ()
        return
    assert getattr(dirty, field) is None
    # the record's other fields are read as usual
    others = [f for f in FIELDS if f != field]
    assert all(getattr(dirty, f) == getattr(clean, f) for f in others)
    (report,) = batch.unreadable
    assert (report.column, report.field, report.count) == (column, field, 1)
    assert report.first[0][0] == 3 and report.first[0][1].startswith(reason)
    assert value not in report.describe()


def test_strict_stops_at_the_first_unreadable_value_naming_row_and_column(tmp_path: Path) -> None:
    path = backlog(tmp_path, [{}, {"tel": "n/a"}, {"dob": "19551192"}])
    with pytest.raises(InputError, match=r"row 3, column 'tel': not a phone number") as error:
        read(path, strict=True)
    assert "n/a" not in str(error.value)


def test_the_report_gives_the_count_and_the_first_rows_of_each_column(tmp_path: Path) -> None:
    rows = [{"dob": "1985-13-01"} if n % 2 else {} for n in range(20)]
    rows[4] = {"kid": "12"}
    batch = read(backlog(tmp_path, rows))
    dob, kid = batch.unreadable  # in the order of the mapping
    assert dob.count == 10 and [row for row, _ in dob.first] == [3, 5, 7, 9, 11][:FIRST_ROWS]
    assert dob.describe() == (
        "column 'dob' (birth_date): 10 values could not be read and count as missing:"
        " row 3: not a real date; row 5: not a real date; row 7: not a real date;"
        " row 9: not a real date; row 11: not a real date; ..."
    )
    assert kid.describe() == (
        "column 'kid' (khmer_id): 1 value could not be read and count as missing:"
        " row 6: not a Khmer ID (9 digits)"
    )
    assert len(batch.records) == 20


def test_khmer_digits_sex_words_and_spaced_headers_are_read(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "id, fam, kid, sex, dob\na, Sok, ០១២៣៤៥៦៧៨, ស្រី, ១៩៨៥\n",
        encoding="utf-8",
    )
    mapping = parse_mapping(["family_name=fam", "khmer_id=kid", "sex=sex", "birth_date=dob"])
    batch = read_csv(path, "id", mapping)
    assert batch.records == (
        MatchRecord(
            family_name="Sok",
            khmer_id="012345678",
            sex="female",
            birth_date=dt.date(1985, 1, 1),
            birth_precision="year",
        ),
    )
    assert batch.unreadable == ()


def test_a_file_that_is_not_utf8_says_how_to_convert_it(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes("id,fam\na,Sok\nb,Jos\xe9\n".encode("cp1252"))
    with pytest.raises(InputError, match="not UTF-8 text; convert the file to UTF-8"):
        read_csv(path, "id", parse_mapping(["family_name=fam"]))
