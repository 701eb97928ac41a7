"""Coverage of social protection per area, counted from the people the gateway returns.

Pure logic: :class:`CoverageCounts` takes people one at a time, as the gateway returns them
to the analyst's partner (address, IDPoor level, NSSF schemes, PCA payments), and keeps only
running counts per area; :meth:`CoverageCounts.publish` turns them into a
:class:`CoverageReport` whose every figure went through small-cell suppression.

The measures (docs/analysts.md says what each means):

- ``registered``: people registered;
- ``idpoor``: people in IDPoor households by level, and the rest (``not_poor``): the
  categories split every area, so the table is a partition and its row totals are the
  people registered;
- ``nssf``: active NSSF members, in any scheme and by scheme;
- ``pca``: people paid by the PCA in the period (certified payments for that month), by any
  programme and by programme;
- ``overlaps``: poor and covered by NSSF health care; paid but neither poor nor an NSSF
  member (possible inclusion errors); poor and covered by nothing (possible exclusion errors).

A measure is counted only from fields the partner's agreement shows as they are: one that
needs a hidden or masked field is left out of the report, with a note, rather than counted
as zeros (:class:`Available`).

**One quantity, one suppression decision.** People registered per area are both the
``registered`` table and the row totals of the ``idpoor`` partition. Suppressed twice, the
two tables could hide a count in one and show it in the other, and the shown one would undo
the other table's protection. So a figure that two tables share is suppressed once, in the
table where it has the most neighbours (the partition), and copied from there as published.
No other figure appears in two tables: the remaining relations between tables (poor and
covered by nothing is at most the poor) are inequalities, which pin nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from analysts.suppression import THRESHOLD, CountTable, PublishedTable, suppress

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# Gazetteer levels by the length of a code: province 2 digits, district 4, commune 6, village 8.
LEVELS = {2: "province", 4: "district", 6: "commune", 8: "village"}
ORDER = ("province", "district", "commune", "village")
BREAKDOWNS = ORDER[1:]

# The values as the GraphQL API spells them.
SCHEMES = ("OCCUPATIONAL_RISK", "HEALTH_CARE", "PENSION")
HEALTH_CARE = "HEALTH_CARE"
CERTIFIED = "CERTIFIED"
IDPOOR_LEVELS = (1, 2)


class CoverageError(ValueError):
    """A coverage report that cannot be made as asked, saying what to change."""


def level_of(code: str) -> str:
    """The gazetteer level of an area code; :class:`CoverageError` for anything else."""
    level = LEVELS.get(len(code)) if code.isdigit() else None
    if level is None:
        raise CoverageError(
            f"{code!r} is not a gazetteer code: give a province (2 digits), district (4), "
            "commune (6) or village (8)"
        )
    return level


def check_request(area: str, period: str, by: str | None) -> str:
    """The area's level, once the area, period and breakdown make sense together."""
    level = level_of(area)
    if not PERIOD.match(period):
        raise CoverageError(f"period {period!r}: give a month as YYYY-MM, e.g. 2026-10")
    if by is not None:
        if by not in BREAKDOWNS:
            raise CoverageError(f"--by {by!r}: give one of {', '.join(BREAKDOWNS)}")
        if ORDER.index(by) <= ORDER.index(level):
            raise CoverageError(f"a {level} cannot be broken down by {by}: pick a smaller level")
    return level


@dataclass(frozen=True)
class Available:
    """Which measures the partner's view lets a report count, and why the others are absent.

    ``fields`` are the ``Type.field`` names the partner sees as they are (not masked).
    """

    idpoor: bool
    nssf: bool
    pca: bool
    names: bool  # place names (Place.nameEn) for the rows
    notes: tuple[str, ...] = ()

    @property
    def overlaps(self) -> tuple[str, ...]:
        """The overlap columns that can be counted."""
        columns = []
        if self.idpoor and self.nssf:
            columns.append("poor_health_care")
        if self.idpoor and self.nssf and self.pca:
            columns += ["paid_not_poor_not_member", "poor_uncovered"]
        return tuple(columns)


# What each measure reads: the fields it needs as they are.
NEEDS = {
    "idpoor": ("Person.idpoor", "IdPoorStatus.level"),
    "nssf": ("Person.nssf", "NssfMembership.active", "NssfMembership.schemes"),
    "pca": (
        "Person.pcaPayments",
        "CertifiedPayment.programme",
        "CertifiedPayment.period",
        "CertifiedPayment.status",
    ),
}
TITLES = {"idpoor": "IDPoor", "nssf": "NSSF", "pca": "PCA payments"}


def rows_need(by: str | None) -> tuple[str, ...]:
    """The fields that place a person in a row of the report."""
    if by is None:
        return ()
    return ("Person.address", f"Address.{by}", "Place.code")


def available(visible: Iterable[str], masked: Mapping[str, str], by: str | None) -> Available:
    """What a report can count given the fields the partner sees as they are (``visible``)
    and those it sees only masked (``masked``: field -> mask); :class:`CoverageError` when
    the rows themselves cannot be placed."""
    shown = frozenset(visible) - set(masked)
    notes: list[str] = []

    def why(names: Iterable[str]) -> str | None:
        for name in names:
            if name in masked:
                return f"{name} is masked ({masked[name]}) for you"
            if name not in shown:
                return f"{name} is hidden from you"
        return None

    missing = why(rows_need(by))
    if missing is not None:
        raise CoverageError(
            f"the report cannot be broken down by {by}: {missing} under your agreement"
        )
    found = {}
    for measure, names in NEEDS.items():
        reason = why(names)
        found[measure] = reason is None
        if reason is not None:
            notes.append(
                f"No {TITLES[measure]} figures: {reason} under your agreement, so they are "
                "left out rather than counted as zeros."
            )
    named = by is not None and why(("Place.nameEn",)) is None
    return Available(found["idpoor"], found["nssf"], found["pca"], named, tuple(notes))


@dataclass(frozen=True)
class Measure:
    """One table of the report: what it counts, and its columns."""

    name: str
    title: str
    description: str
    columns: tuple[str, ...]
    labels: tuple[str, ...]
    partition: bool = False


@dataclass(frozen=True)
class PublishedMeasure:
    """A measure's table as published: every count at least :data:`THRESHOLD`, or hidden."""

    measure: Measure
    table: PublishedTable
    row_names: tuple[str, ...]

    def records(self) -> list[dict[str, Any]]:
        """One record per row (the areas, then ``total``): area, name, then each column's
        count (None where hidden) and, for a partition, the row's total."""
        columns = list(self.measure.columns) + (["total"] if self.measure.partition else [])
        out = []
        names = [*self.row_names, "total"]
        for i, code in enumerate([*self.table.rows, "total"]):
            record: dict[str, Any] = {"area": code, "name": names[i]}
            for j, column in enumerate(columns):
                record[column] = self.table.cells[i][j]
            out.append(record)
        return out


@dataclass(frozen=True)
class CoverageReport:
    """The report as published: nothing in it counts fewer than :data:`THRESHOLD` people."""

    area: str
    area_name: str
    period: str
    by: str | None
    measures: tuple[PublishedMeasure, ...]
    notes: tuple[str, ...]
    threshold: int = THRESHOLD

    def measure(self, name: str) -> PublishedMeasure | None:
        return next((m for m in self.measures if m.measure.name == name), None)


@dataclass
class _Row:
    name: str
    counts: Counter[str] = field(default_factory=Counter)


class CoverageCounts:
    """Running counts per area; holds no person, only how many of each kind each area has."""

    def __init__(
        self, area: str, period: str, by: str | None, available: Available, area_name: str = ""
    ) -> None:
        self.area = area
        self.level = check_request(area, period, by)
        self.period = period
        self.by = by
        self.available = available
        self.area_name = area_name or area
        self.programmes: set[str] = set()
        self._rows: dict[str, _Row] = {}

    @property
    def people(self) -> int:
        """How many people were counted (the analyst's own progress, never published)."""
        return sum(row.counts["registered"] for row in self._rows.values())

    def add(self, person: Mapping[str, Any]) -> None:
        """Count one person, a node as the gateway returned it."""
        row = self._row(person)
        counts = row.counts
        counts["registered"] += 1
        have = self.available
        poor = member = active_health = active = paid = False
        if have.idpoor:
            status = person.get("idpoor")
            level = status.get("level") if status else None
            if level is not None and level not in IDPOOR_LEVELS:
                raise CoverageError(f"IDPoor answered level {level!r}; levels are 1 and 2")
            poor = level is not None
            counts[f"idpoor:level_{level}" if poor else "idpoor:not_poor"] += 1
        if have.nssf:
            membership = person.get("nssf")
            member = membership is not None
            active = bool(membership and membership.get("active"))
            if active:
                assert membership is not None
                schemes = set(membership.get("schemes") or ())
                counts["nssf:active"] += 1
                for scheme in schemes & set(SCHEMES):
                    counts[f"nssf:{scheme.lower()}"] += 1
                active_health = HEALTH_CARE in schemes
        if have.pca:
            programmes = {
                p["programme"]
                for p in person.get("pcaPayments") or ()
                if p.get("period") == self.period and p.get("status") == CERTIFIED
            }
            paid = bool(programmes)
            if paid:
                counts["pca:any"] += 1
            for programme in programmes:
                self.programmes.add(programme)
                counts[f"pca:{programme}"] += 1
        overlaps = have.overlaps
        if "poor_health_care" in overlaps and poor and active_health:
            counts["overlaps:poor_health_care"] += 1
        if "paid_not_poor_not_member" in overlaps and paid and not poor and not member:
            counts["overlaps:paid_not_poor_not_member"] += 1
        if "poor_uncovered" in overlaps and poor and not active and not paid:
            counts["overlaps:poor_uncovered"] += 1

    def add_all(self, people: Iterable[Mapping[str, Any]]) -> None:
        for person in people:
            self.add(person)

    def _row(self, person: Mapping[str, Any]) -> _Row:
        if self.by is None:
            code, name = self.area, ""
        else:
            place = (person.get("address") or {}).get(self.by) or {}
            found = place.get("code")
            if not isinstance(found, str) or not found:
                raise CoverageError(f"a person came without their {self.by}'s code")
            code, name = found, str(place.get("nameEn") or found)
        row = self._rows.get(code)
        if row is None:
            row = self._rows[code] = _Row(name)
        return row

    # -- publication ----------------------------------------------------------------------

    def measures(self) -> list[Measure]:
        """The report's tables, in the order they are shown."""
        have = self.available
        found = [
            Measure(
                "registered",
                "People registered",
                "Everyone the registry holds in the area (within your agreement's scope).",
                ("people",),
                ("People",),
            )
        ]
        if have.idpoor:
            found.append(
                Measure(
                    "idpoor",
                    "People in IDPoor households, by level",
                    "Level 1 is very poor, level 2 poor, as IDPoor identifies households "
                    "today; everyone else is counted as not poor.",
                    ("level_1", "level_2", "not_poor"),
                    ("Level 1", "Level 2", "Not poor"),
                    partition=True,
                )
            )
        if have.nssf:
            found.append(
                Measure(
                    "nssf",
                    "Active NSSF members, by scheme",
                    "Members whose contributions are being paid today; a member counts once "
                    "in 'any scheme' and once in each scheme they are covered by.",
                    ("active", "occupational_risk", "health_care", "pension"),
                    ("Any scheme", "Occupational risk", "Health care", "Pension"),
                )
            )
        if have.pca:
            programmes = tuple(sorted(self.programmes))
            found.append(
                Measure(
                    "pca",
                    f"People paid by PCA in {self.period}, by programme",
                    f"People with a certified payment for {self.period}; a person paid by "
                    "two programmes counts once in 'any programme' and once in each.",
                    ("any", *programmes),
                    ("Any programme", *(p.replace("_", " ").capitalize() for p in programmes)),
                )
            )
        labels = {
            "poor_health_care": "Poor, NSSF health care",
            "paid_not_poor_not_member": "Paid, neither poor nor NSSF member",
            "poor_uncovered": "Poor, covered by nothing",
        }
        if have.overlaps:
            found.append(
                Measure(
                    "overlaps",
                    "Overlaps, inclusion and exclusion",
                    "Poor and covered by NSSF health care; paid in the period but neither "
                    "poor nor an NSSF member (possible inclusion errors); poor with no active "
                    "NSSF scheme and no payment in the period (possible exclusion errors).",
                    have.overlaps,
                    tuple(labels[c] for c in have.overlaps),
                )
            )
        return found

    def count_table(self, measure: Measure) -> CountTable:
        """A measure's counts before suppression (never published as they are)."""
        codes = sorted(self._rows)
        return CountTable(
            rows=tuple(codes),
            columns=measure.columns,
            counts=tuple(
                tuple(
                    self._rows[code].counts[
                        "registered" if measure.name == "registered" else f"{measure.name}:{c}"
                    ]
                    for c in measure.columns
                )
                for code in codes
            ),
            partition=measure.partition,
        )

    def publish(self, threshold: int = THRESHOLD) -> CoverageReport:
        """The report with every table suppressed, shared figures decided once."""
        codes = sorted(self._rows)
        names = tuple(
            self.area_name if self.by is None else self._rows[code].name for code in codes
        )
        published: dict[str, PublishedMeasure] = {}
        measures = self.measures()
        for measure in measures:
            if measure.name == "registered":
                continue
            table = suppress(self.count_table(measure), threshold)
            published[measure.name] = PublishedMeasure(measure, table, names)
        registered = measures[0]
        if "idpoor" in published:
            # The partition's row totals are the people registered: copied, not suppressed
            # again, so no count is shown in one table and hidden in the other.
            partition = published["idpoor"].table
            cells = tuple((line[-1],) for line in partition.cells)
            table = PublishedTable(partition.rows, registered.columns, False, cells)
        else:
            table = suppress(self.count_table(registered), threshold)
        ordered = [PublishedMeasure(registered, table, names)]
        ordered += [published[m.name] for m in measures[1:]]
        notes = list(self.available.notes)
        if not codes:
            notes.append("No one registered in the area is within your agreement's scope.")
        return CoverageReport(
            area=self.area,
            area_name=self.area_name,
            period=self.period,
            by=self.by,
            measures=tuple(ordered),
            notes=tuple(notes),
            threshold=threshold,
        )
