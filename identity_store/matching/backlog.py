"""A backlog to de-duplicate: records read from a CSV, and the values that could not be read.

Operators' backlogs carry impossible dates, Khmer IDs with a digit missing and phone
numbers with letters in them. Such a value is read as missing (the record still takes
part, matched on its other fields), counted per column, and reported with the first row
numbers; ``strict`` stops at the first one instead.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from identity_store.matching.cells import UnreadableValue, read_cell
from identity_store.matching.errors import InputError
from identity_store.matching.record import MatchRecord

Progress = Callable[[str], None]

# Every MatchRecord field a --map may name; the precision comes with the date.
MAPPABLE_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(MatchRecord) if f.name != "birth_precision"
)
FIRST_ROWS = 5  # row numbers reported per column


@dataclass(frozen=True)
class UnreadableColumn:
    """The values of one column that could not be read, and so count as missing."""

    column: str
    field: str
    count: int
    first: tuple[tuple[int, str], ...]  # (row number, reason); the header is row 1

    def describe(self) -> str:
        values = "1 value" if self.count == 1 else f"{self.count:,} values"
        rows = "; ".join(f"row {row}: {reason}" for row, reason in self.first)
        more = "; ..." if self.count > len(self.first) else ""
        return (
            f"column {self.column!r} ({self.field}): {values} could not be read and"
            f" count as missing: {rows}{more}"
        )


@dataclass(frozen=True)
class BatchInput:
    """Records to de-duplicate, each with the caller's identifier."""

    ids: tuple[str, ...]
    records: tuple[MatchRecord, ...]
    unreadable: tuple[UnreadableColumn, ...] = ()


def _silent(_: str) -> None:
    pass


def parse_mapping(items: Sequence[str]) -> dict[str, str]:
    """``["family_name=surname", ...]`` as ``{field: column}``; refuses unknown fields."""
    mapping: dict[str, str] = {}
    for item in items:
        field, sep, column = item.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not field or not column:
            raise InputError(f"--map {item!r}: expected FIELD=COLUMN, e.g. family_name=surname")
        if field not in MAPPABLE_FIELDS:
            raise InputError(
                f"--map {item!r}: {field!r} is not a field; fields are {', '.join(MAPPABLE_FIELDS)}"
            )
        if field in mapping:
            raise InputError(f"--map {item!r}: {field!r} is mapped twice")
        mapping[field] = column
    if not mapping:
        raise InputError("no --map given: map at least one field to a column")
    return mapping


class _Tally:
    """Unreadable values per mapped column, in the order the mapping gives."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping
        self.counts: dict[str, int] = {}
        self.first: dict[str, list[tuple[int, str]]] = {}

    def add(self, field: str, row: int, reason: str) -> None:
        self.counts[field] = self.counts.get(field, 0) + 1
        first = self.first.setdefault(field, [])
        if len(first) < FIRST_ROWS:
            first.append((row, reason))

    def columns(self) -> tuple[UnreadableColumn, ...]:
        return tuple(
            UnreadableColumn(column, field, self.counts[field], tuple(self.first[field]))
            for field, column in self.mapping.items()
            if field in self.counts
        )


def read_csv(
    path: Path,
    id_column: str,
    mapping: dict[str, str],
    progress: Progress = _silent,
    *,
    strict: bool = False,
) -> BatchInput:
    """Read records from a CSV with a header row; empty cells are missing values.

    A value that cannot be read is missing too, and reported in ``unreadable``; with
    ``strict`` it stops the read instead, naming its row and column.
    """
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}") from None
    with handle:
        reader = csv.DictReader(handle, skipinitialspace=True)
        try:
            header = [name.strip() for name in reader.fieldnames or []]
        except UnicodeDecodeError:
            raise _not_utf8(path) from None
        reader.fieldnames = header
        if id_column not in header:
            raise InputError(f"{path}: no id column {id_column!r}; columns are {', '.join(header)}")
        unknown = [f"{f}={c}" for f, c in mapping.items() if c not in header]
        if unknown:
            raise InputError(
                f"{path}: --map {', '.join(unknown)} names a column the file does not have;"
                f" columns are {', '.join(header)}"
            )
        ids: list[str] = []
        records: list[MatchRecord] = []
        first_row: dict[str, int] = {}
        tally = _Tally(mapping)
        today = dt.date.today()
        try:
            for number, row in enumerate(reader, start=2):
                rec_id = (row.get(id_column) or "").strip()
                if not rec_id:
                    raise InputError(f"{path}, row {number}: the id column {id_column!r} is empty")
                if rec_id in first_row:
                    raise InputError(
                        f"{path}, row {number}: duplicate id {rec_id!r}"
                        f" (first on row {first_row[rec_id]})"
                    )
                first_row[rec_id] = number
                ids.append(rec_id)
                strict_path = path if strict else None
                records.append(_record(row, mapping, number, tally, today, strict_path))
                if (number - 1) % 100_000 == 0:
                    progress(f"read {number - 1:,} rows")
        except csv.Error as error:
            raise InputError(f"{path}, line {reader.line_num}: {error}") from None
        except UnicodeDecodeError:
            raise _not_utf8(path, reader.line_num) from None
    if not ids:
        raise InputError(f"{path}: no rows")
    progress(f"read {len(ids):,} records from {path}")
    return BatchInput(tuple(ids), tuple(records), tally.columns())


def _not_utf8(path: Path, line: int | None = None) -> InputError:
    where = f", after line {line}" if line else ""
    return InputError(
        f"{path}{where}: not UTF-8 text; convert the file to UTF-8"
        " (for example: iconv -f cp1252 -t utf-8 in.csv > out.csv)"
    )


def _record(
    row: dict[str, Any],
    mapping: dict[str, str],
    number: int,
    tally: _Tally,
    today: dt.date,
    strict_path: Path | None,
) -> MatchRecord:
    values: dict[str, Any] = {}
    for field, column in mapping.items():
        cell = row.get(column)
        text = cell.strip() if isinstance(cell, str) else ""
        if not text:
            continue
        try:
            values.update(read_cell(field, text, today))
        except UnreadableValue as error:
            if strict_path is not None:
                raise InputError(
                    f"{strict_path}, row {number}, column {column!r}: {error.reason}"
                ) from None
            tally.add(field, number, error.reason)
    return MatchRecord(**values)
