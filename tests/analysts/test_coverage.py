"""Coverage counts from people as the gateway returns them, and what a report publishes."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysts.coverage import (
    Available,
    CoverageCounts,
    CoverageError,
    CoverageReport,
    available,
    check_request,
)
from analysts.suppression import HIDDEN, extended
from tests.analysts.test_suppression import interval

ALL = [
    *("Person.idpoor", "IdPoorStatus.level"),
    *("Person.nssf", "NssfMembership.active", "NssfMembership.schemes"),
    *("Person.pcaPayments", "CertifiedPayment.programme", "CertifiedPayment.period"),
    *("CertifiedPayment.status", "Person.address", "Address.commune", "Address.district"),
    *("Place.code", "Place.nameEn"),
]
PERIOD = "2026-10"


def person(
    commune: str = "210101",
    level: int | None = None,
    nssf: dict[str, Any] | None = None,
    paid: tuple[str, ...] = (),
    period: str = PERIOD,
    status: str = "CERTIFIED",
) -> dict[str, Any]:
    return {
        "address": {
            "commune": {"code": commune, "nameEn": f"Commune {commune}"},
            "district": {"code": commune[:4], "nameEn": f"District {commune[:4]}"},
        },
        "idpoor": None if level is None else {"level": level},
        "nssf": nssf,
        "pcaPayments": [{"programme": p, "period": period, "status": status} for p in paid],
    }


ACTIVE_HEALTH = {"active": True, "schemes": ["OCCUPATIONAL_RISK", "HEALTH_CARE"]}
SUSPENDED = {"active": False, "schemes": ["HEALTH_CARE"]}


def counts_of(
    people: list[dict[str, Any]], by: str | None = "commune", area: str = "2101"
) -> CoverageCounts:
    counts = CoverageCounts(area, PERIOD, by, available(ALL, {}, by), "Bati")
    counts.add_all(people)
    return counts


def test_each_measure_counts_what_it_says() -> None:
    counts = counts_of(
        [
            person(level=1, nssf=ACTIVE_HEALTH),  # poor and NSSF health care
            person(level=2),  # poor, covered by nothing
            person(level=1, paid=("family_package",)),  # poor, paid
            person(paid=("disability_allowance",)),  # paid, neither poor nor member
            person(nssf=SUSPENDED, paid=("disability_allowance",)),  # paid, a member
            person(level=2, nssf=SUSPENDED),  # poor, suspended: covered by nothing
            person(paid=("family_package",), period="2026-09"),  # another month
            person(paid=("family_package",), status="PENDING"),  # not paid yet
        ]
    )
    table = {m.name: counts.count_table(m) for m in counts.measures()}
    assert table["registered"].counts == ((8,),)
    assert table["idpoor"].columns == ("level_1", "level_2", "not_poor")
    assert table["idpoor"].counts == ((2, 2, 4),)
    assert table["nssf"].counts == ((1, 1, 1, 0),)  # active, occupational, health care, pension
    assert table["pca"].columns == ("any", "disability_allowance", "family_package")
    assert table["pca"].counts == ((3, 2, 1),)
    assert table["overlaps"].columns == (
        "poor_health_care",
        "paid_not_poor_not_member",
        "poor_uncovered",
    )
    assert table["overlaps"].counts == ((1, 1, 2),)


def test_rows_are_the_areas_asked_for() -> None:
    counts = counts_of([person("210101"), person("210102"), person("210101")])
    assert counts.count_table(counts.measures()[0]).counts == ((2,), (1,))
    report = counts.publish()
    assert report.measure("registered").row_names == ("Commune 210101", "Commune 210102")  # type: ignore[union-attr]
    by_district = counts_of([person("210101"), person("210201")], by="district", area="21")
    assert by_district.count_table(by_district.measures()[0]).rows == ("2101", "2102")


def test_a_hidden_or_masked_field_leaves_its_measure_out_with_a_note() -> None:
    visible = [name for name in ALL if name != "NssfMembership.schemes"]
    have = available(visible, {"IdPoorStatus.level": "nullify"}, "commune")
    assert (have.idpoor, have.nssf, have.pca) == (False, False, True)
    assert have.overlaps == ()
    assert have.notes == (
        "No IDPoor figures: IdPoorStatus.level is masked (nullify) for you under your "
        "agreement, so they are left out rather than counted as zeros.",
        "No NSSF figures: NssfMembership.schemes is hidden from you under your agreement, "
        "so they are left out rather than counted as zeros.",
    )
    counts = CoverageCounts("2101", PERIOD, "commune", have)
    counts.add(person(level=1, nssf=ACTIVE_HEALTH, paid=("family_package",)))
    report = counts.publish()
    assert [m.measure.name for m in report.measures] == ["registered", "pca"]
    assert report.notes == have.notes


def test_rows_that_cannot_be_placed_refuse_the_report() -> None:
    with pytest.raises(CoverageError, match=r"Address\.commune is hidden"):
        available([n for n in ALL if n != "Address.commune"], {}, "commune")
    with pytest.raises(CoverageError, match=r"Place\.code is masked"):
        available(ALL, {"Place.code": "pseudonym"}, "district")


@pytest.mark.parametrize(
    ("area", "period", "by", "message"),
    [
        ("21x", PERIOD, None, "not a gazetteer code"),
        ("210", PERIOD, None, "not a gazetteer code"),
        ("21", "2026-13", None, "give a month"),
        ("2101", PERIOD, "district", "cannot be broken down by district"),
        ("21010101", PERIOD, "village", "cannot be broken down"),
    ],
)
def test_requests_that_make_no_sense_are_refused(
    area: str, period: str, by: str | None, message: str
) -> None:
    with pytest.raises(CoverageError, match=message):
        check_request(area, period, by)


def random_people(rng: random.Random, size: int) -> list[dict[str, Any]]:
    communes = ["210101", "210102", "210103", "210201"]
    people = []
    for _ in range(size):
        level = rng.choice([None, None, None, 1, 2])
        nssf = rng.choice([None, None, None, ACTIVE_HEALTH, SUSPENDED])
        paid = ("family_package",) if level and rng.random() < 0.6 else ()
        if rng.random() < 0.05:
            paid += ("disability_allowance",)
        people.append(person(rng.choice(communes), level, nssf, paid))
    return people


def published_cells(report: CoverageReport) -> dict[str, tuple[tuple[int | None, ...], ...]]:
    return {m.measure.name: m.table.cells for m in report.measures}


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 400), st.sampled_from([None, "commune"]))
def test_every_published_figure_is_a_true_count_and_no_hidden_one_can_be_worked_out(
    seed: int, size: int, by: str | None
) -> None:
    counts = counts_of(random_people(random.Random(seed), size), by)
    report = counts.publish()
    for published in report.measures:
        table = counts.count_table(published.measure)
        grid = extended(table)
        for i, line in enumerate(published.table.cells):
            for j, value in enumerate(line):
                if value is not None:
                    assert value == grid[i][j] and value >= 10
                elif 1 <= grid[i][j] < 10:
                    low, high = interval(table, published.table, (i, j))
                    assert high - low >= 1 - 1e-6, (published.measure.name, i, j)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 400))
def test_people_registered_are_hidden_in_both_tables_or_in_neither(seed: int, size: int) -> None:
    report = counts_of(random_people(random.Random(seed), size)).publish()
    registered = report.measure("registered")
    idpoor = report.measure("idpoor")
    assert registered is not None and idpoor is not None
    assert [line[0] for line in registered.table.cells] == [line[-1] for line in idpoor.table.cells]


def test_a_big_enough_area_shows_its_figures() -> None:
    report = counts_of(random_people(random.Random(7), 900)).publish()
    idpoor = report.measure("idpoor")
    assert idpoor is not None
    shown = [v for line in idpoor.table.cells for v in line if v is not None]
    assert len(shown) >= 15  # most of 5 rows x 4 columns
    records = idpoor.records()
    assert records[-1]["area"] == "total" and records[-1]["total"] == 900


def test_cells_under_ten_read_as_hidden() -> None:
    report = counts_of([person(level=1)] * 3 + [person()] * 30, by=None).publish()
    idpoor = report.measure("idpoor")
    assert idpoor is not None
    assert idpoor.table.cells[0][0] is None
    assert idpoor.table.text(0, 0) == HIDDEN
    assert report.measures[0].row_names == ("Bati",)


def test_available_names_its_overlaps() -> None:
    assert Available(True, True, True, True).overlaps == (
        "poor_health_care",
        "paid_not_poor_not_member",
        "poor_uncovered",
    )
    assert Available(True, True, False, True).overlaps == ("poor_health_care",)
