"""A node of an export page as rows: one per node, or one per list element (lists="rows")."""

from __future__ import annotations

import json
from itertools import product
from typing import Any

from analysts.export_query import Part

Row = dict[str, Any]


def rows_of(node: Any, shape: Part) -> list[Row]:
    """``node`` (a JSON object from the page) as rows of the columns ``shape`` holds.

    An object's fields multiply: each field gives its rows and the object's rows are every
    combination (a field that is not a list gives exactly one, so nothing multiplies unless
    two lists are exploded side by side). A null or empty list gives one row of nulls, so
    every node has at least one row.
    """
    return _rows(node if isinstance(node, dict) else None, shape.parts)


def _rows(value: dict[str, Any] | None, parts: tuple[Part, ...]) -> list[Row]:
    per_part = [_part_rows(None if value is None else value.get(p.key), p) for p in parts]
    merged: list[Row] = []
    for combination in product(*per_part):
        row: Row = {}
        for piece in combination:
            row.update(piece)
        merged.append(row)
    return merged


def _part_rows(value: Any, part: Part) -> list[Row]:
    if part.many:
        elements = value if isinstance(value, list) and value else [None]
        return [row for element in elements for row in _single(element, part)]
    return _single(value, part)


def _single(value: Any, part: Part) -> list[Row]:
    column = part.column
    if column is not None:
        if column.kind == "json":
            text = None if value is None else json.dumps(value, ensure_ascii=False)
            return [{column.name: text}]
        return [{column.name: value}]
    return _rows(value if isinstance(value, dict) else None, part.parts)
