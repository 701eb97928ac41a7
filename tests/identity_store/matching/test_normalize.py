"""Normal forms: romanization variants fold together, Khmer script has one form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity_store.matching.normalize import (
    free_text,
    khmer_name,
    latin_name,
    phone_number,
    romanization_key,
    script_name,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Sok", "Sokh"),
        ("Chea", "Chia"),
        ("Chhun", "Chun"),
        ("Ouk", "Uk"),
        ("Khim", "Kim"),
        ("Ly", "Li"),
        ("Vannak", "Vanak"),
        ("Bunthoeun", "Buntheun"),
        ("Sophea", "Sopheap".removesuffix("p")),
        ("Mao", "Mau"),
        ("Visal", "Wisal"),
        ("Thida", "Tida"),
        ("Srey Mom", "sreymom"),
        ("Touch", "Tuch"),
        ("Chanthou", "Chanthu"),
    ],
)
def test_common_romanizations_share_a_key(a: str, b: str) -> None:
    assert romanization_key(a) == romanization_key(b)


@pytest.mark.parametrize(("a", "b"), [("Sok", "Sam"), ("Chea", "Chan"), ("Dara", "Dany")])
def test_different_names_keep_different_keys(a: str, b: str) -> None:
    assert romanization_key(a) != romanization_key(b)


def test_latin_names_drop_accents_spaces_and_punctuation() -> None:
    assert latin_name(" Srey-Mom ") == "SREYMOM"
    assert latin_name("Sòk") == "SOK"
    assert latin_name("  ") is None
    assert latin_name(None) is None


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", max_size=12))
def test_the_key_ignores_case_and_spacing(name: str) -> None:
    assert romanization_key(name) == romanization_key(name.upper().replace(" ", ""))


def test_khmer_names_lose_zero_width_characters() -> None:
    assert khmer_name("ស្រី\u200bមុំ") == khmer_name("ស្រីមុំ")
    assert khmer_name("ស្រី មុំ") == khmer_name("ស្រីមុំ")
    assert khmer_name("\u200b") is None


def test_coeng_ro_goes_after_the_other_subscript() -> None:
    # ស + ្រ + ្ត + ី typed in the wrong order reads as ស្ត្រី
    assert khmer_name("ស\u17d2\u179a\u17d2\u178f\u17b8") == "ស\u17d2\u178f\u17d2\u179a\u17b8"


def test_the_register_shifter_goes_before_the_vowel() -> None:
    assert khmer_name("ម\u17c5\u17c9") == "ម\u17c9\u17c5"


KHMER = st.text(alphabet=[chr(c) for c in range(0x1780, 0x17DE)] + ["\u200b"], max_size=10)


@given(KHMER)
def test_khmer_normal_form_is_stable(text: str) -> None:
    once = khmer_name(text)
    assert khmer_name(once) == once


@pytest.mark.parametrize(
    "raw", ["+855 12 345 678", "012345678", "85512345678", "00855 12-345-678", "12345678"]
)
def test_phone_numbers_lose_country_and_trunk_prefixes(raw: str) -> None:
    assert phone_number(raw) == "12345678"


def test_a_short_phone_number_is_missing() -> None:
    assert phone_number("12-34") is None


def test_free_text_words() -> None:
    assert free_text("Phum Trâpeang-Kak,  Khum 3") == "PHUM TRAPEANG KAK KHUM 3"


def test_free_text_keeps_other_scripts() -> None:
    assert free_text("ភូមិ ៣, សង្កាត់ បឹងកេងកង") == "ភូមិ៣សង្កាត់បឹងកេងកង"
    assert free_text("Phum 3 សង្កាត់ បឹងកេងកង") == "PHUM 3 សង្កាត់បឹងកេងកង"
    assert free_text("ул. Ленина, д. 5") == "УЛ ЛЕНИНА Д 5"
    assert free_text("Straße 5, Café") == "STRASSE 5 CAFE"


def test_names_in_any_script_fold_case_and_blanks() -> None:
    assert script_name("Пётр Иванов") == script_name("пётр иванов") == "пётриванов"
    assert script_name("សុខ\u200b") == khmer_name("សុខ")
