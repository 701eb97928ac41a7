"""Masks keep a value's type and reveal only what their name says."""

from __future__ import annotations

import datetime as dt
import re

from graphql import GraphQLList, GraphQLNonNull, GraphQLString
from hypothesis import given
from hypothesis import strategies as st

from policies.masks import MASKS
from tests.policies.schemas import tiny_schema

KEY = b"k" * 32


def field_type(type_name: str, field_name: str):  # type: ignore[no-untyped-def]
    return tiny_schema().get_type(type_name).fields[field_name].type  # type: ignore[union-attr]


def mask(name: str, type_name: str, field_name: str, partner: str = "p1"):  # type: ignore[no-untyped-def]
    return MASKS[name].function(
        field_type(type_name, field_name), partner=partner, pseudonym_key=KEY
    )


def test_the_issue_examples() -> None:
    assert mask("last4", "Person", "khmerId")("123456789") == "*****6789"
    assert mask("year", "Person", "birthDate")("1985-03-12") == "1985-01-01"
    assert (
        MASKS["year"].function(GraphQLString, partner="p", pseudonym_key=None)("1985-03-12")
        == "1985"
    )
    assert mask("initial", "Person", "name")("Sophea") == "S."
    assert mask("commune", "Person", "village")("12010203") == "120102"
    assert mask("nullify", "Person", "phone")("012345678") is None


def test_masks_leave_null_null_and_mask_lists_item_by_item() -> None:
    last4 = MASKS["last4"].function(
        GraphQLList(GraphQLNonNull(GraphQLString)), partner="p", pseudonym_key=None
    )
    assert last4(None) is None
    assert last4(["123456789", "987654321"]) == ["*****6789", "*****4321"]


def test_a_mask_refuses_a_field_whose_type_it_cannot_keep() -> None:
    assert MASKS["nullify"].check(field_type("Person", "name")) is not None  # String!
    assert MASKS["nullify"].check(field_type("Person", "phone")) is None
    assert MASKS["initial"].check(field_type("Person", "birthDate")) is not None
    assert MASKS["year"].check(field_type("Person", "birthDate")) is None
    assert MASKS["last4"].check(field_type("Person", "card")) is not None
    assert MASKS["match_only"].check(field_type("Person", "name")) is not None


@given(st.text(min_size=1, max_size=30))
def test_pseudonyms_are_stable_per_partner_and_unlinkable_across_partners(value: str) -> None:
    first = mask("pseudonym", "Person", "spid", "p1")
    again = mask("pseudonym", "Person", "spid", "p1")
    other = mask("pseudonym", "Person", "spid", "p2")
    assert first(value) == again(value)
    assert first(value) != other(value)
    assert re.fullmatch(r"ps_[a-z2-7]{16}", first(value))


@given(st.from_regex(r"\d{9}", fullmatch=True))
def test_last4_keeps_the_length_and_the_last_four_only(khmer_id: str) -> None:
    masked = mask("last4", "Person", "khmerId")(khmer_id)
    assert len(masked) == len(khmer_id)
    assert masked[-4:] == khmer_id[-4:]
    assert set(masked[:-4]) == {"*"}


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_a_masked_date_is_still_a_date_with_only_its_year(day: dt.date) -> None:
    masked = mask("year", "Person", "birthDate")(day.isoformat())
    assert dt.date.fromisoformat(masked) == dt.date(day.year, 1, 1)


@given(st.text(max_size=20).filter(lambda t: not t.isdigit()))
def test_a_value_a_mask_cannot_read_never_passes_through(value: str) -> None:
    # A name under `commune` or `year` (masks meant for codes and dates) comes out blank.
    assert mask("commune", "Person", "village")(value) == ""  # village is non-null
    year = mask("year", "Person", "name")(value)
    assert year == "" or (len(year) == 4 and year.isdigit() and value.startswith(year))
    assert mask("commune", "Person", "phone")(value) is None  # phone may be null
