"""SPIDs: random, fixed length, and a check digit that catches typing errors."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity_store import InvalidSpid, is_valid_spid, new_spid, validate_spid

spids = st.integers(min_value=0, max_value=2**32).map(lambda s: new_spid(random.Random(s)))


@given(spids)
def test_every_issued_spid_is_valid_and_twelve_digits(spid: str) -> None:
    assert len(spid) == 12
    assert spid.isdigit()
    assert is_valid_spid(spid)


@given(spids, st.integers(min_value=0, max_value=11), st.integers(min_value=1, max_value=9))
def test_every_single_digit_error_is_caught(spid: str, position: int, delta: int) -> None:
    wrong = str((int(spid[position]) + delta) % 10)
    assert not is_valid_spid(spid[:position] + wrong + spid[position + 1 :])


@given(spids, st.integers(min_value=0, max_value=10))
def test_every_adjacent_transposition_is_caught(spid: str, i: int) -> None:
    if spid[i] == spid[i + 1]:
        return
    swapped = spid[:i] + spid[i + 1] + spid[i] + spid[i + 2 :]
    assert not is_valid_spid(swapped)


def test_spids_are_not_sequential() -> None:
    issued = sorted(int(new_spid()) for _ in range(1000))
    gaps = {b - a for a, b in itertools.pairwise(issued)}
    assert len(gaps) > 900


def test_a_malformed_spid_says_what_is_wrong() -> None:
    with pytest.raises(InvalidSpid, match="12 digits"):
        validate_spid("1234")
    with pytest.raises(InvalidSpid, match="check digit"):
        validate_spid("123456789012" if not is_valid_spid("123456789012") else "123456789013")
