"""The canonical form and the hash chain are exactly as documented."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from policies.audit import GENESIS_HASH, AccessEntry, canonical, chain_hash, record_hash

ENTRY = AccessEntry(
    at=dt.datetime(2026, 11, 30, 8, 15, 2, 123456, tzinfo=dt.UTC),
    partner="nssf",
    purpose="eligibility_check",
    end_user="clerk-7",
    operation_name="Eligibility",
    document_hash="ab" * 32,
    policy_version=3,
    fields=("Person.spid", "Person.birthDate"),
    spids=("123456789010",),
    household_ids=("HH-1",),
    outcome="ok",
)

EXPECTED = (
    '{"at":"2026-11-30T08:15:02.123456Z","document_hash":"' + "ab" * 32 + '",'
    '"end_user":"clerk-7","fields":["Person.birthDate","Person.spid"],"household_ids":["HH-1"],'
    '"operation_name":"Eligibility","outcome":"ok","partner":"nssf","policy_version":3,'
    '"purpose":"eligibility_check","spids":["123456789010"],"v":1}'
)


def test_the_canonical_form_is_the_documented_json() -> None:
    assert canonical(ENTRY) == EXPECTED.encode()


def test_absent_values_are_null_and_text_is_utf8_unescaped() -> None:
    e = dataclasses.replace(ENTRY, end_user=None, policy_version=None, partner='ក្រសួង\n"x"')
    form = canonical(e)
    assert b'"end_user":null' in form and b'"policy_version":null' in form
    assert '"partner":"ក្រសួង\\n\\"x\\""'.encode() in form


def test_a_record_hash_is_sha256_of_the_previous_hash_then_the_canonical_form() -> None:
    expected = hashlib.sha256(("0" * 64 + EXPECTED).encode()).hexdigest()
    assert GENESIS_HASH == "0" * 64
    assert record_hash(GENESIS_HASH, ENTRY) == expected
    assert chain_hash(expected, b"x") == hashlib.sha256((expected + "x").encode()).hexdigest()


def test_the_order_subjects_and_fields_come_in_does_not_change_the_hash() -> None:
    shuffled = dataclasses.replace(
        ENTRY,
        fields=("Person.birthDate", "Person.spid"),
        spids=("123456789010", "123456789010"),
    )
    assert record_hash(GENESIS_HASH, shuffled) == record_hash(GENESIS_HASH, ENTRY)


text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1)
changes = st.one_of(
    st.fixed_dictionaries({"partner": text.filter(lambda s: len(s) <= 64)}),
    st.fixed_dictionaries({"end_user": st.none() | text.filter(lambda s: len(s) <= 200)}),
    st.fixed_dictionaries({"policy_version": st.none() | st.integers(-(2**31), 2**31)}),
    st.fixed_dictionaries({"outcome": st.sampled_from(["partial", "error"])}),
    st.fixed_dictionaries({"spids": st.lists(text.filter(lambda s: len(s) <= 64)).map(tuple)}),
    st.fixed_dictionaries(
        {"household_ids": st.lists(text.filter(lambda s: len(s) <= 64)).map(tuple)}
    ),
    st.fixed_dictionaries({"fields": st.just(("Person.spid",))}),
    st.fixed_dictionaries(
        {"at": st.datetimes(timezones=st.just(dt.UTC), min_value=dt.datetime(2000, 1, 1))}
    ),
)


@given(changes)
def test_any_change_to_a_record_changes_its_hash(change: dict[str, object]) -> None:
    changed = dataclasses.replace(ENTRY, **change)  # type: ignore[arg-type]
    if changed == ENTRY:
        return
    assert record_hash(GENESIS_HASH, changed) != record_hash(GENESIS_HASH, ENTRY)
    # and the canonical form stays the JSON it claims to be
    assert json.loads(canonical(changed))["v"] == 1
