"""A coverage report's files: CSV and Parquet tables, PNG and SVG charts, one HTML report.

Everything here is drawn from the *published* figures only (:class:`CoverageReport`): a count
that suppression hid is ``<10`` in the CSV, null in the Parquet file, a gap labelled ``<10``
in a chart, so no file holds what the report does not show. The HTML report is one file an
analyst can e-mail: its styles are inline and its charts are PNG ``data:`` URIs, it loads
nothing from anywhere and runs no script.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display; before pyplot is imported

import matplotlib.pyplot as plt
import pyarrow as pa
import pyarrow.parquet as pq
from jinja2 import Environment, PackageLoader, select_autoescape

from analysts.coverage import CoverageReport, PublishedMeasure
from analysts.suppression import HIDDEN

# No creator or software stamp in the files: the report names no tool's web site.
_PNG_METADATA: dict[str, str | None] = {"Software": None}
_SVG_METADATA: dict[str, str | None] = {"Creator": None, "Date": None, "Format": None}
MAX_CHART_ROWS = 60
COLOURS = ("#1b6f8a", "#e0912f", "#6a8d3a", "#a34a6e", "#5b5f97", "#8c6d46", "#3a8d80")


@dataclass(frozen=True)
class WrittenReport:
    """The files of one report."""

    directory: Path
    files: tuple[Path, ...]

    @property
    def html(self) -> Path:
        return self.directory / "coverage.html"


def write_report(report: CoverageReport, out: Path) -> WrittenReport:
    """Write every file of ``report`` under ``out`` (made if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    charts: dict[str, str] = {}
    for published in report.measures:
        name = published.measure.name
        files.append(_write_csv(published, out / f"{name}.csv"))
        files.append(_write_parquet(report, published, out / f"{name}.parquet"))
        figure = chart(report, published)
        try:
            png = io.BytesIO()
            figure.savefig(png, format="png", dpi=110, metadata=_PNG_METADATA)
            (out / f"{name}.png").write_bytes(png.getvalue())
            figure.savefig(out / f"{name}.svg", format="svg", metadata=_SVG_METADATA)
        finally:
            plt.close(figure)
        files += [out / f"{name}.png", out / f"{name}.svg"]
        charts[name] = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    html = out / "coverage.html"
    html.write_text(render_html(report, charts), encoding="utf-8")
    files.append(html)
    return WrittenReport(out, tuple(files))


def _columns(published: PublishedMeasure) -> list[str]:
    measure = published.measure
    return list(measure.columns) + (["total"] if measure.partition else [])


def _write_csv(published: PublishedMeasure, path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["area", "name", *_columns(published)])
        for record in published.records():
            values = [record[c] for c in _columns(published)]
            writer.writerow(
                [record["area"], record["name"], *(HIDDEN if v is None else v for v in values)]
            )
    return path


def _write_parquet(report: CoverageReport, published: PublishedMeasure, path: Path) -> Path:
    records = published.records()
    arrays: dict[str, Any] = {
        "area": pa.array([r["area"] for r in records], pa.string()),
        "name": pa.array([r["name"] for r in records], pa.string()),
    }
    for column in _columns(published):
        arrays[column] = pa.array([r[column] for r in records], pa.int64())
    table = pa.table(arrays).replace_schema_metadata(
        {
            "tonle.measure": published.measure.name,
            "tonle.title": published.measure.title,
            "tonle.area": report.area,
            "tonle.period": report.period,
            "tonle.suppression": f"null: fewer than {report.threshold} people, or hidden so "
            "that no such count can be worked out from the others",
        }
    )
    pq.write_table(table, path)
    return path


def chart(report: CoverageReport, published: PublishedMeasure) -> Any:
    """A bar chart of one measure's published figures: per area when broken down, else
    the area's own; a hidden figure is a gap labelled ``<10``."""
    plt.rcParams["svg.fonttype"] = "none"  # text stays text in the SVG
    measure = published.measure
    cells = published.table.cells
    labels = list(measure.labels)
    if report.by is None or len(published.table.rows) <= 1:
        rows = [(report.area_name or report.area, cells[-1][: len(labels)])]
    else:
        shown = list(zip(published.row_names, cells[:-1], strict=True))[:MAX_CHART_ROWS]
        rows = [(name, line[: len(labels)]) for name, line in shown]
    height = max(2.6, 0.35 * len(rows) * max(1, len(labels)) ** 0.5 + 1.4)
    figure, axes = plt.subplots(figsize=(8.5, min(height, 30.0)))
    bar = 0.8 / len(labels)
    top = max([v for _, line in rows for v in line if v is not None] or [1])
    for j, label in enumerate(labels):
        ys = [i + j * bar for i in range(len(rows))]
        values = [line[j] for _, line in rows]
        axes.barh(
            ys,
            [v or 0 for v in values],
            height=bar,
            label=label,
            color=COLOURS[j % len(COLOURS)],
        )
        for y, value in zip(ys, values, strict=True):
            text = HIDDEN if value is None else f"{value:,}"
            axes.text((value or 0) + top * 0.01, y, text, va="center", fontsize=7)
    axes.set_yticks([i + bar * (len(labels) - 1) / 2 for i in range(len(rows))])
    axes.set_yticklabels([name for name, _ in rows], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, top * 1.15)
    axes.set_xlabel("people")
    axes.set_title(measure.title, fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    if len(labels) > 1:
        axes.legend(fontsize=7, frameon=False, loc="lower right")
    figure.tight_layout()
    return figure


def render_html(report: CoverageReport, charts: dict[str, str]) -> str:
    """The self-contained HTML report (charts given as ``data:`` URIs by measure name)."""
    environment = Environment(
        loader=PackageLoader("analysts", "templates"),
        autoescape=select_autoescape(default=True),
    )
    template = environment.get_template("coverage.html")
    return template.render(
        report=report,
        charts=charts,
        hidden=HIDDEN,
        made=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        columns=_columns,
    )
