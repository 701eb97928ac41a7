"""Batch de-duplication of a table of records with splink (DuckDB, embedded).

Reading a CSV into records, normalizing them into the columns splink compares (the same
:class:`~identity_store.matching.features.Features` the online matcher reads), training
the model on the input itself (u by random sampling, m by expectation maximisation, no
labels), predicting pairs within the blocking keys, and clustering them.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pyarrow as pa

from identity_store.matching.blocking import blocking_key_values
from identity_store.matching.dates import parse_birth_date
from identity_store.matching.errors import InputError
from identity_store.matching.features import FEATURE_COLUMNS, features
from identity_store.matching.model import MatchModel
from identity_store.matching.record import DatePrecision, MatchRecord
from identity_store.matching.splink_settings import (
    UNIQUE_ID,
    blocking_column,
    model_from_splink,
    settings,
)

Progress = Callable[[str], None]

# Every MatchRecord field a --map may name; the precision comes with the date.
MAPPABLE_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(MatchRecord) if f.name != "birth_precision"
)
_INT_FEATURES = frozenset(("dob_y", "dob_m", "dob_d"))
REVIEW_FLOOR = 0.5
_EM_SESSIONS = (
    ("the same birth date", "l.dob = r.dob"),
    (
        "the same names and village",
        "l.fam_key = r.fam_key AND l.giv_key = r.giv_key AND l.village = r.village",
    ),
)  # the lower threshold a model trained here is saved with


@dataclass(frozen=True)
class BatchInput:
    """Records to de-duplicate, each with the caller's identifier."""

    ids: tuple[str, ...]
    records: tuple[MatchRecord, ...]


@dataclass(frozen=True)
class Pair:
    """Two records judged to be the same person (``id_l`` before ``id_r``)."""

    id_l: str
    id_r: str
    match_probability: float


@dataclass(frozen=True)
class DedupResult:
    """Pairs at or above the threshold, a cluster for every record, and the model used."""

    pairs: tuple[Pair, ...]
    clusters: dict[str, str]  # record id -> cluster id (the cluster's smallest record id)
    model: MatchModel


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


def read_csv(
    path: Path, id_column: str, mapping: dict[str, str], progress: Progress = _silent
) -> BatchInput:
    """Read records from a CSV with a header row; empty cells are missing values."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
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
                records.append(_record(row, mapping, f"{path}, row {number}"))
                if number % 100_000 == 0:
                    progress(f"read {number - 1:,} rows")
        except csv.Error as error:
            raise InputError(f"{path}, line {reader.line_num}: {error}") from None
    if not ids:
        raise InputError(f"{path}: no rows")
    progress(f"read {len(ids):,} records from {path}")
    return BatchInput(tuple(ids), tuple(records))


def _record(row: dict[str, Any], mapping: dict[str, str], where: str) -> MatchRecord:
    values: dict[str, Any] = {}
    for field, column in mapping.items():
        cell = row.get(column)
        text = cell.strip() if isinstance(cell, str) else ""
        if not text:
            continue
        if field == "birth_date":
            try:
                date, precision = parse_birth_date(text)
            except ValueError as error:
                raise InputError(f"{where}, column {column!r}: {error}") from None
            values["birth_date"], values["birth_precision"] = date, precision
        elif field == "sex":
            values["sex"] = _SEX.get(text.lower(), text.lower())
        else:
            values[field] = text
    return MatchRecord(**values)


_SEX = {"m": "male", "f": "female", "1": "male", "2": "female", "u": "unknown"}


def input_table(batch: BatchInput) -> pa.Table:
    """The table splink reads: the id, every normalized feature, every blocking key."""
    columns: dict[str, list[Any]] = {UNIQUE_ID: list(batch.ids)}
    for name in FEATURE_COLUMNS:
        columns[name] = []
    key_columns = {kind: blocking_column(kind) for kind in blocking_key_values(MatchRecord())}
    for column in key_columns.values():
        columns[column] = []
    for record in batch.records:
        f = features(record)
        for name in FEATURE_COLUMNS:
            columns[name].append(getattr(f, name))
        for kind, value in blocking_key_values(record).items():
            columns[key_columns[kind]].append(value)
    schema = pa.schema(
        [
            (name, pa.int32() if name in _INT_FEATURES else pa.string())
            for name in columns  # insertion order: id, features, keys
        ]
    )
    return pa.table(columns, schema=schema)


@contextmanager
def _quiet_splink() -> Iterator[None]:
    logger = logging.getLogger("splink")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate


def _linker(table: pa.Table, settings_dict: dict[str, Any]) -> Any:
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI()
    frame = db_api.register(table, dataset_display_name="records")
    return Linker(frame, settings_dict, log_level=None)


def train(
    batch: BatchInput,
    *,
    seed: int = 1,
    upper: float = 0.99,
    lower: float = REVIEW_FLOOR,
    progress: Progress = _silent,
    max_u_pairs: float = 5e6,
) -> MatchModel:
    """Train a model on ``batch`` itself: no labels are needed."""
    with _quiet_splink():
        linker = _linker(input_table(batch), settings())
        _train(linker, len(batch.ids), seed, max_u_pairs, progress)
        return model_from_splink(linker.misc.save_model_to_json(), upper=upper, lower=lower)


def _train(linker: Any, size: int, seed: int, max_u_pairs: float, progress: Progress) -> None:
    if size < 50:
        raise InputError(f"{size} records are too few to train a model on; give --model")
    started = time.perf_counter()
    progress("estimating the share of pairs that are the same person")
    linker.training.estimate_probability_two_random_records_match(
        [
            "l.khmer_id = r.khmer_id",
            "l.fam_key = r.fam_key AND l.giv_key = r.giv_key AND l.dob = r.dob",
        ],
        recall=0.7,
    )
    pairs = min(max_u_pairs, size * (size - 1) / 2)
    progress(f"estimating u from {pairs:,.0f} random pairs")
    linker.training.estimate_u_using_random_sampling(max_pairs=pairs, seed=seed)
    # Each session estimates m for the comparisons its blocking rule does not use. Blocks
    # where most pairs are the same person keep EM from taking neighbours who share a
    # name for duplicates: same full birth date; same names in the same village.
    for description, rule in _EM_SESSIONS:
        progress(f"estimating m by expectation maximisation, pairs with {description}")
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    progress(f"trained in {time.perf_counter() - started:.1f} s")


def deduplicate(
    batch: BatchInput,
    *,
    threshold: float = 0.97,
    model: MatchModel | None = None,
    seed: int = 1,
    progress: Progress = _silent,
    max_u_pairs: float = 5e6,
) -> DedupResult:
    """Pairs and clusters of ``batch`` at ``threshold``, training a model unless given one."""
    if not 0.0 < threshold < 1.0:
        raise InputError(f"threshold {threshold} must be between 0 and 1")
    with _quiet_splink():
        progress(f"normalizing {len(batch.ids):,} records")
        table = input_table(batch)
        linker = _linker(table, settings(model=model))
        if model is None:
            _train(linker, len(batch.ids), seed, max_u_pairs, progress)
            model = model_from_splink(
                linker.misc.save_model_to_json(),
                upper=threshold,
                lower=min(REVIEW_FLOOR, threshold),
            )
            # Predict with the model as saved, so that its pairs are the ones the online
            # matcher, or a later run with --model, would find.
            linker = _linker(table, settings(model=model))
        progress("scoring pairs that share a blocking key")
        started = time.perf_counter()
        predictions = linker.inference.predict(threshold_match_probability=threshold)
        rows = predictions.as_pyarrow_table()
        progress(f"scored in {time.perf_counter() - started:.1f} s: {rows.num_rows:,} pairs")
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        ).as_pyarrow_table()
    pairs = tuple(
        sorted(
            (
                Pair(min(str(left), str(right)), max(str(left), str(right)), float(probability))
                for left, right, probability in zip(
                    rows.column(f"{UNIQUE_ID}_l").to_pylist(),
                    rows.column(f"{UNIQUE_ID}_r").to_pylist(),
                    rows.column("match_probability").to_pylist(),
                    strict=True,
                )
            ),
            key=lambda p: (p.id_l, p.id_r),
        )
    )
    clusters = _clusters(
        clustered.column(UNIQUE_ID).to_pylist(), clustered.column("cluster_id").to_pylist()
    )
    progress(f"{len(pairs):,} pairs, {len(set(clusters.values())):,} clusters")
    return DedupResult(pairs, clusters, model)


def _clusters(ids: list[Any], cluster_ids: list[Any]) -> dict[str, str]:
    """Name each cluster after its smallest record id, so the output is stable."""
    members: dict[str, list[str]] = {}
    for rec_id, cluster in zip(ids, cluster_ids, strict=True):
        members.setdefault(str(cluster), []).append(str(rec_id))
    out: dict[str, str] = {}
    for group in members.values():
        name = min(group)
        for rec_id in group:
            out[rec_id] = name
    return out


def write_pairs(path: Path, pairs: Sequence[Pair]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("id_l", "id_r", "match_probability"))
        writer.writerows((p.id_l, p.id_r, f"{p.match_probability:.6f}") for p in pairs)


def write_clusters(path: Path, ids: Sequence[str], clusters: dict[str, str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("id", "cluster_id"))
        writer.writerows((rec_id, clusters.get(rec_id, rec_id)) for rec_id in ids)


def record_from_values(values: dict[str, Any]) -> MatchRecord:
    """A record from already-typed values (dates as ``datetime.date``)."""
    date = values.get("birth_date")
    precision: DatePrecision | None = values.get("birth_precision")
    if isinstance(date, dt.date) and precision is None:
        precision = "day"
    return MatchRecord(**{**values, "birth_precision": precision})
