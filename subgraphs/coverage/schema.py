"""The coverage subgraph's schema: ``Query.coverage``, the suppressed aggregates of a report.

The same report as ``tonle coverage`` (analysts/coverage.py), shaped for dashboards: one
table per measure, one row per area and a total row, one cell per column whose ``count`` is
null where suppression hid it (``text`` is then ``<10``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.federation import Schema

from analysts.coverage import CoverageError, CoverageReport, PublishedMeasure
from analysts.gateway_client import GatewayRefused
from analysts.suppression import HIDDEN
from subgraphs.error_codes import ErrorCodes


@strawberry.enum(description="How a coverage report is broken down: one row per such area.")
class CoverageBreakdown(enum.Enum):
    DISTRICT = "district"
    COMMUNE = "commune"
    VILLAGE = "village"


@strawberry.type(description="One figure of a coverage table.")
class CoverageCell:
    column: str
    count: int | None = strawberry.field(
        description="How many people; null when hidden: fewer than 10, or hidden so that no "
        "such count can be worked out from the others."
    )

    @strawberry.field(description="The figure as shown to people: the count, or <10.")
    def text(self) -> str:
        return HIDDEN if self.count is None else str(self.count)


@strawberry.type(description="One area of a coverage table, or its total.")
class CoverageRow:
    area_code: str | None = strawberry.field(description="The area's code; null on the total.")
    name: str
    total: bool = strawberry.field(description="Whether this is the total row of the table.")
    cells: list[CoverageCell] = strawberry.field(
        description="One per column, and the row's total last for a partition."
    )


@strawberry.type(description="One measure of a coverage report: areas by categories.")
class CoverageTable:
    name: str = strawberry.field(
        description="registered, idpoor, nssf, pca or overlaps (docs/analysts.md)."
    )
    title: str
    description: str
    columns: list[str]
    labels: list[str]
    partition: bool = strawberry.field(
        description="The columns split every area: each row ends with its total."
    )
    rows: list[CoverageRow]

    @classmethod
    def of(cls, published: PublishedMeasure) -> CoverageTable:
        measure = published.measure
        columns = list(measure.columns) + (["total"] if measure.partition else [])
        records = published.records()
        last = len(records) - 1
        rows = [
            CoverageRow(
                area_code=None if i == last else record["area"],
                name="Total" if i == last else record["name"],
                total=i == last,
                cells=[CoverageCell(column=c, count=record[c]) for c in columns],
            )
            for i, record in enumerate(records)
        ]
        return cls(
            name=measure.name,
            title=measure.title,
            description=measure.description,
            columns=columns,
            labels=list(measure.labels) + (["Total"] if measure.partition else []),
            partition=measure.partition,
            rows=rows,
        )


@strawberry.type(description="Coverage of social protection in an area, suppressed below 10.")
class Coverage:
    area_code: str
    area_name: str
    period: str
    by: CoverageBreakdown | None
    threshold: int = strawberry.field(description="No figure under this is shown.")
    tables: list[CoverageTable]
    notes: list[str] = strawberry.field(
        description="Why a measure is absent (a field your agreement hides or masks), and the like."
    )

    @strawberry.field(description="One table by name, or null when it is absent.")
    def table(self, name: str) -> CoverageTable | None:
        return next((t for t in self.tables if t.name == name), None)

    @classmethod
    def of(cls, report: CoverageReport) -> Coverage:
        return cls(
            area_code=report.area,
            area_name=report.area_name,
            period=report.period,
            by=CoverageBreakdown(report.by) if report.by else None,
            threshold=report.threshold,
            tables=[CoverageTable.of(m) for m in report.measures],
            notes=list(report.notes),
        )


@dataclass(frozen=True)
class CoverageRequest:
    area_code: str
    period: str
    by: str | None


@strawberry.type
class Query:
    @strawberry.field(
        description="Coverage of an area (a province, district, commune or village code) for a "
        "month (YYYY-MM): people registered, IDPoor by level, active NSSF members by scheme, "
        "people paid by PCA in the month by programme, and their overlaps, counted under your "
        "own agreement; every figure under 10 is hidden."
    )
    async def coverage(
        self,
        info: strawberry.Info[Any, Any],
        area_code: str,
        period: str,
        by: CoverageBreakdown | None = None,
    ) -> Coverage:
        report = await info.context.report(
            CoverageRequest(area_code, period, by.value if by else None)
        )
        return Coverage.of(report)


class CoverageUnavailable(Exception):
    """The subgraph cannot ask the gateway (no delegation came with the request)."""

    code = "SUBGRAPH_UNAVAILABLE"


class CoverageErrors(ErrorCodes):
    """Codes on every error; the analysts' own errors say what to change."""

    expected = (CoverageError, GatewayRefused, CoverageUnavailable)


schema = Schema(query=Query, extensions=[CoverageErrors])
