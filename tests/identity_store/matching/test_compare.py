"""Comparison levels: romanization, swapped names, partial dates, places, phones."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity_store.matching import COMPARISONS, DEFINITIONS, MatchRecord
from identity_store.matching.compare import level_names

BASE = MatchRecord(
    family_name="Sok",
    given_name="Dara",
    family_name_km="សុខ",
    given_name_km="ដារ៉ា",
    birth_date=dt.date(1985, 3, 4),
    birth_precision="day",
    sex="male",
    village_code="01020304",
    phone="012 345 678",
    khmer_id="123456789",
)


def levels(a: MatchRecord, b: MatchRecord) -> dict[str, str]:
    return {name: compare(a, b) for name, compare in COMPARISONS.items()}


def latin(family: str | None, given: str | None) -> MatchRecord:
    return MatchRecord(family_name=family, given_name=given)


@pytest.mark.parametrize(
    ("a", "b", "family", "given"),
    [
        (("Sok", "Dara"), ("Sok", "Dara"), "exact", "exact"),
        (("Sok", "Dara"), ("SOKH", "dara"), "romanization", "exact"),
        (("Chea", "Chhun"), ("Chia", "Chun"), "romanization", "romanization"),
        (("Sok", "Dara"), ("Dara", "Sok"), "swapped", "swapped"),
        (("Sok", "Dara"), ("Darra", "Sokh"), "swapped", "swapped"),
        (("Sok", "Bunthoeun"), ("Sok", "Bunthoeurn"), "exact", "fuzzy"),
        (("Sok", "Dara"), ("Sok", "Rotha"), "exact", "different"),
        (("Sok", None), ("Sok", "Dara"), "exact", "missing"),
    ],
)
def test_latin_name_levels(
    a: tuple[str, str | None], b: tuple[str, str | None], family: str, given: str
) -> None:
    result = levels(latin(*a), latin(*b))
    assert (result["family_name"], result["given_name"]) == (family, given)


def test_a_swap_weighs_once() -> None:
    given_name = next(d for d in DEFINITIONS if d.name == "given_name")
    assert next(lv for lv in given_name.levels if lv.name == "swapped").is_missing


def test_khmer_script_names_compare_when_latin_is_missing() -> None:
    a = MatchRecord(family_name_km="សុខ", given_name_km="ស្រី\u200bមុំ")
    b = MatchRecord(family_name_km="សុខ", given_name_km="ស្រីមុំ", family_name="Sok")
    assert levels(a, b)["family_name"] == "exact"
    assert levels(a, b)["given_name"] == "exact"
    swapped = MatchRecord(family_name_km="ស្រីមុំ", given_name_km="សុខ")
    assert levels(a, swapped)["family_name"] == "swapped"


def dated(date: dt.date | None, precision: str | None = "day") -> MatchRecord:
    return MatchRecord(birth_date=date, birth_precision=precision)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        (dated(dt.date(1985, 3, 4)), dated(dt.date(1985, 3, 4)), "exact"),
        (dated(dt.date(1985, 3, 4)), dated(dt.date(1985, 4, 3)), "transposed"),
        (dated(dt.date(1985, 3, 4)), dated(dt.date(1985, 3, 1), "month"), "month"),
        (dated(dt.date(1985, 3, 4)), dated(dt.date(1985, 1, 1), "year"), "year"),
        (dated(dt.date(1985, 1, 1), "year"), dated(dt.date(1985, 1, 1), "year"), "year"),
        (dated(dt.date(1985, 3, 4)), dated(dt.date(1986, 3, 4)), "day_month"),
        (dated(dt.date(1985, 3, 4)), dated(dt.date(1985, 7, 20)), "different"),
        (dated(dt.date(1985, 3, 4)), dated(dt.date(1986, 1, 1), "year"), "different"),
        (dated(dt.date(1985, 3, 4)), dated(None), "missing"),
    ],
)
def test_birth_dates_with_partial_precision(a: MatchRecord, b: MatchRecord, level: str) -> None:
    assert COMPARISONS["birth_date"](a, b) == level


@pytest.mark.parametrize(
    ("other", "level"),
    [
        ("01020304", "exact"),
        ("01020399", "commune"),
        ("01029999", "district"),
        ("01999999", "province"),
        ("22020304", "different"),
        (None, "missing"),
    ],
)
def test_village_levels_follow_gazetteer_prefixes(other: str | None, level: str) -> None:
    assert COMPARISONS["village"](BASE, MatchRecord(village_code=other)) == level


@pytest.mark.parametrize(
    ("other", "level"),
    [("+85512345678", "exact"), ("012 345 679", "typo"), ("099 999 999", "different")],
)
def test_phones_compare_without_prefixes(other: str, level: str) -> None:
    assert COMPARISONS["phone"](BASE, MatchRecord(phone=other)) == level


def test_unknown_sex_is_missing() -> None:
    assert COMPARISONS["sex"](BASE, MatchRecord(sex="unknown")) == "missing"
    assert COMPARISONS["sex"](BASE, MatchRecord(sex="female")) == "different"


def test_free_text_address_fields() -> None:
    a = MatchRecord(
        address="Phum 3, Sangkat Boeng Keng Kang", locality="Boeng Keng Kang", postcode="120101"
    )
    b = MatchRecord(
        address="phum 3 sangkat boeng keng kong", locality="Beung Keng Kang", postcode="120101"
    )
    result = levels(a, b)
    assert (result["address"], result["locality"], result["postcode"]) == (
        "fuzzy",
        "exact",
        "exact",
    )


def test_identifiers_and_postcodes_allow_one_typo() -> None:
    a = MatchRecord(external_id="NSSF-0042-17", postcode="120101")
    b = MatchRecord(external_id="nssf 0042 71", postcode="120110")
    c = MatchRecord(external_id="NSSF-0042-18", postcode="121101")
    assert (levels(a, b)["external_id"], levels(a, b)["postcode"]) == ("typo", "typo")
    assert (levels(a, c)["external_id"], levels(a, c)["postcode"]) == ("typo", "typo")
    assert levels(a, MatchRecord(external_id="NSSF-0043-88"))["external_id"] == "different"


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        (("Иванов", "Пётр"), ("ИВАНОВ", "пётр"), "exact"),  # Cyrillic, any case
        (("Иванов", "Пётр"), ("Иваноф", "Пётр"), "fuzzy"),
        (("สมชาย", "ใจดี"), ("สมชาย", "ใจดี"), "exact"),  # Thai
        (("សុខ", "ដារ៉ា"), ("សុខ", "ដារ៉ា"), "exact"),  # Khmer where the Latin name goes
        (("Иванов", "Пётр"), ("Петров", "Пётр"), "different"),
    ],
)
def test_names_in_other_scripts_compare_in_their_own_script(
    a: tuple[str, str], b: tuple[str, str], level: str
) -> None:
    assert levels(latin(*a), latin(*b))["family_name"] == level
    khmer = MatchRecord(family_name_km=b[0], given_name_km=b[1])
    assert levels(latin(*a), khmer)["family_name"] == level


def test_addresses_and_localities_in_khmer_script_compare() -> None:
    a = MatchRecord(address="ភូមិ ៣ សង្កាត់បឹងកេងកង", locality="បឹងកេងកង")
    b = MatchRecord(address="ភូមិ ៣, សង្កាត់ បឹងកេងកង", locality="បឹងកេងកង")
    assert (levels(a, b)["address"], levels(a, b)["locality"]) == ("exact", "exact")
    assert levels(a, MatchRecord(address="ភូមិ ៤ សង្កាត់ទួលទំពូង"))["address"] == "different"


def test_every_outcome_is_a_declared_level() -> None:
    for name, compare in COMPARISONS.items():
        assert compare(BASE, MatchRecord()) == "missing"
        assert compare(BASE, BASE) in level_names(name)


NAMES = st.sampled_from(["Sok", "Sokh", "Dara", "Darra", "Chea", "Chia", None, "Ly", "Li"])
RECORDS = st.builds(
    MatchRecord,
    family_name=NAMES,
    given_name=NAMES,
    family_name_km=st.sampled_from(["សុខ", "ដារ៉ា", None]),
    given_name_km=st.sampled_from(["សុខ", "ដារ៉ា", None]),
    birth_date=st.one_of(st.none(), st.dates(dt.date(1990, 1, 1), dt.date(1991, 12, 31))),
    birth_precision=st.sampled_from(["day", "month", "year"]),
    sex=st.sampled_from(["male", "female", None]),
    village_code=st.sampled_from(["01020304", "01020305", "01030101", None]),
    phone=st.sampled_from(["012345678", "+85512345678", "012345679", None]),
)


@given(RECORDS, RECORDS)
def test_every_comparison_is_symmetric(a: MatchRecord, b: MatchRecord) -> None:
    for compare in COMPARISONS.values():
        assert compare(a, b) == compare(b, a)
