"""Export files written page by page, with a checkpoint that a resumed export continues from.

The checkpoint (``OUT.checkpoint.json``) is written after a page's rows are on disk (flushed
and fsynced) and names how far the file is good: the byte length of the CSV, or the number of
Parquet parts. A process killed at any moment leaves at most one page written after the last
checkpoint; ``--resume`` cuts it off (the CSV back to its recorded length, Parquet parts past
the recorded number deleted) and asks the gateway for the next page after the recorded
cursor, so no row is written twice and none is missing.

CSV cells that a spreadsheet would run as a formula (text starting ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) are written with a leading ``'``, as OWASP advises: an export
is opened by people, and a value from an operator's system must not become a formula.
Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from analysts.export_query import Column

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}


class ExportFileError(RuntimeError):
    """An export file or checkpoint that cannot be used as asked."""


@dataclass(frozen=True)
class Checkpoint:
    """How far an export has got."""

    digest: str  # the query and columns it belongs to
    variables: dict[str, Any]  # what it was asked with (area, page size, …)
    format: str
    cursor: str | None  # the endCursor of the last page written
    pages: int
    nodes: int
    rows: int
    length: int  # CSV: bytes of the good file; Parquet: parts written
    done: bool = False

    @staticmethod
    def path_for(out: Path) -> Path:
        return out.with_name(out.name + ".checkpoint.json")

    @classmethod
    def read(cls, out: Path) -> Checkpoint | None:
        path = cls.path_for(out)
        if not path.exists():
            return None
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as error:
            raise ExportFileError(
                f"{path} is not a checkpoint this version can read ({error}); "
                "delete it and the partial file to start again"
            ) from None

    def write(self, out: Path) -> None:
        path = self.path_for(out)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(asdict(self), sort_keys=True), encoding="utf-8")
        _fsync(temporary)
        os.replace(temporary, path)


class Sink(Protocol):
    def write(self, rows: Sequence[dict[str, Any]]) -> None: ...

    def length(self) -> int: ...

    def finish(self) -> None: ...


def open_sink(out: Path, fmt: str, columns: Sequence[Column], resume_at: int | None) -> Sink:
    """A sink writing ``out``; ``resume_at`` is the checkpoint's length when resuming."""
    if fmt == "csv":
        return CsvSink(out, columns, resume_at)
    if fmt == "parquet":
        return ParquetSink(out, columns, resume_at)
    raise ExportFileError(f"format {fmt!r}: choose csv or parquet")


def partial_path(out: Path) -> Path:
    return out.with_name(out.name + ".partial")


class CsvSink:
    """``OUT.partial`` grows by a page at a time; renamed to ``OUT`` when finished."""

    def __init__(self, out: Path, columns: Sequence[Column], resume_at: int | None) -> None:
        self.out = out
        self.columns = list(columns)
        self.partial = partial_path(out)
        if resume_at is None:
            self.file = self.partial.open("w+b")
            self._append([[c.name for c in self.columns]])
        else:
            if not self.partial.exists() or self.partial.stat().st_size < resume_at:
                raise ExportFileError(
                    f"{self.partial} is missing or shorter than its checkpoint says; "
                    "start the export again without --resume"
                )
            self.file = self.partial.open("r+b")
            self.file.truncate(resume_at)
            self.file.seek(resume_at)

    def _append(self, lines: list[list[Any]]) -> None:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerows(lines)
        self.file.write(text.getvalue().encode("utf-8"))

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        self._append([[_cell(row.get(c.name), c) for c in self.columns] for row in rows])
        self.file.flush()
        os.fsync(self.file.fileno())

    def length(self) -> int:
        return self.file.tell()

    def finish(self) -> None:
        self.file.close()
        os.replace(self.partial, self.out)


def _cell(value: Any, column: Column) -> Any:
    if value is None:
        return ""
    if column.kind == "bool":
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class ParquetSink:
    """One Parquet part per page under ``OUT.parts/``, joined into ``OUT`` at the end."""

    def __init__(self, out: Path, columns: Sequence[Column], resume_at: int | None) -> None:
        self.out = out
        self.columns = list(columns)
        self.schema = pa.schema(
            [pa.field(c.name, ARROW_TYPES.get(c.kind, pa.string())) for c in self.columns]
        )
        self.parts = out.with_name(out.name + ".parts")
        if resume_at is None:
            shutil.rmtree(self.parts, ignore_errors=True)
            self.parts.mkdir(parents=True)
            self.count = 0
        else:
            if not self.parts.is_dir():
                raise ExportFileError(
                    f"{self.parts} is missing; start the export again without --resume"
                )
            for part in self.parts.glob("part-*.parquet"):
                if int(part.stem.split("-")[1]) > resume_at:
                    part.unlink()  # written after the last checkpoint
            self.count = resume_at

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        table = pa.Table.from_pylist(
            [{c.name: row.get(c.name) for c in self.columns} for row in rows],
            schema=self.schema,
        )
        self.count += 1
        path = self.parts / f"part-{self.count:06d}.parquet"
        pq.write_table(table, path)
        _fsync(path)

    def length(self) -> int:
        return self.count

    def finish(self) -> None:
        temporary = self.out.with_name(self.out.name + ".tmp")
        with pq.ParquetWriter(temporary, self.schema) as writer:
            for number in range(1, self.count + 1):
                part = pq.ParquetFile(self.parts / f"part-{number:06d}.parquet")
                for group in range(part.num_row_groups):
                    writer.write_table(part.read_row_group(group))
        os.replace(temporary, self.out)
        shutil.rmtree(self.parts, ignore_errors=True)


def _fsync(path: Path) -> None:
    with path.open("rb") as file:
        os.fsync(file.fileno())
