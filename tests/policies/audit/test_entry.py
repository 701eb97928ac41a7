"""An access entry is normalised once, and refuses what the database could not store."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from policies.audit import AccessEntry
from tests.policies.audit.conftest import entry


def test_lists_are_sorted_without_repeats_and_the_time_is_utc() -> None:
    phnom_penh = dt.timezone(dt.timedelta(hours=7))
    e = AccessEntry(
        at=dt.datetime(2026, 11, 30, 15, 0, tzinfo=phnom_penh),
        partner="nssf",
        purpose="enrolment",
        end_user=None,
        operation_name=None,
        document_hash="0" * 64,
        policy_version=None,
        fields=["Person.spid", "Household.householdId", "Person.spid"],  # type: ignore[arg-type]
        spids=("222222222222", "111111111111", "222222222222"),
        household_ids=["HH-2", "HH-1"],  # type: ignore[arg-type]
        outcome="partial",
    )
    assert e.at == dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
    assert e.at.tzinfo is dt.UTC
    assert e.fields == ("Household.householdId", "Person.spid")
    assert e.spids == ("111111111111", "222222222222")
    assert e.household_ids == ("HH-1", "HH-2")


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"at": dt.datetime(2026, 11, 30, 8, 0)}, "timezone-aware"),
        ({"partner": ""}, "partner must be a non-empty string"),
        ({"purpose": "p" * 65}, "purpose is longer than 64"),
        ({"end_user": "u\x00"}, "end_user contains a NUL"),
        ({"operation_name": "\ud800"}, "operation_name is not valid Unicode"),
        ({"policy_version": "3"}, "policy_version must be an int"),
        ({"outcome": "fine"}, "outcome must be one of ok, partial, error"),
        ({"fields": ("spid",)}, "'Type.field'"),
        ({"spids": "123456789012"}, "spids must be a tuple"),
        ({"spids": ("1" * 65,)}, "spids is longer than 64"),
        ({"household_ids": (None,)}, "household_ids must be a non-empty string"),
    ],
)
def test_what_the_database_could_not_store_is_refused_before_the_commit(
    change: dict[str, object], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint.replace("(", r"\(")) as raised:
        dataclasses.replace(entry(), **change)  # type: ignore[arg-type]
    # The message names the attribute, never the value (it may be personal data).
    assert "123456789012" not in str(raised.value)
    assert "1" * 65 not in str(raised.value)


def test_an_entry_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry().partner = "other"  # type: ignore[misc]
