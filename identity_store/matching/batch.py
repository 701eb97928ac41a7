"""Batch de-duplication of a backlog with splink, on DuckDB (embedded) or on Spark.

Normalizing records into the columns splink compares (the same
:class:`~identity_store.matching.features.Features` the online matcher reads), planning
what to compare and train with from the fields the backlog has (:mod:`plan`), training
the model on the input itself (u by random sampling, m by expectation maximisation, no
labels), predicting pairs within the blocking keys, and clustering them. The engine
only decides where splink's SQL runs; the settings are the same.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from identity_store.matching.backlog import BatchInput, Progress
from identity_store.matching.blocking import blocking_key_values
from identity_store.matching.errors import InputError
from identity_store.matching.features import FEATURE_COLUMNS, features
from identity_store.matching.model import MatchModel
from identity_store.matching.plan import TrainingPlan, plan
from identity_store.matching.record import DatePrecision, MatchRecord
from identity_store.matching.splink_settings import (
    UNIQUE_ID,
    blocking_column,
    model_from_splink,
    settings,
)

_INT_FEATURES = frozenset(("dob_y", "dob_m", "dob_d"))
REVIEW_FLOOR = 0.5  # the lower threshold a model trained here is saved with
MIN_TRAINING_RECORDS = 50
MAX_EM_PAIRS = 2e7  # an EM session over more pairs samples its records down to this
_KEY_COLUMNS = {kind: blocking_column(kind) for kind in blocking_key_values(MatchRecord())}


class Engine(Protocol):
    """Where splink runs its SQL: a database API of splink's, in a dialect of ours."""

    dialect: str

    def database_api(self) -> Any: ...


class DuckDBEngine:
    """DuckDB, embedded in this process: a new in-memory database per linker."""

    dialect = "duckdb"

    def database_api(self) -> Any:
        from splink import DuckDBAPI

        return DuckDBAPI()


DUCKDB = DuckDBEngine()


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


def input_table(batch: BatchInput) -> pa.Table:
    """The table splink reads: the id, every normalized feature, every blocking key."""
    columns: dict[str, list[Any]] = {UNIQUE_ID: list(batch.ids)}
    for name in FEATURE_COLUMNS:
        columns[name] = []
    for column in _KEY_COLUMNS.values():
        columns[column] = []
    for record in batch.records:
        f = features(record)
        for name in FEATURE_COLUMNS:
            columns[name].append(getattr(f, name))
        for kind, value in blocking_key_values(record).items():
            columns[_KEY_COLUMNS[kind]].append(value)
    schema = pa.schema(
        [
            (name, pa.int32() if name in _INT_FEATURES else pa.string())
            for name in columns  # insertion order: id, features, keys
        ]
    )
    return pa.table(columns, schema=schema)


def plan_for(table: pa.Table, *, training: bool) -> TrainingPlan:
    """:func:`plan.plan` over :func:`input_table`'s columns."""
    return plan(table, training=training, blocking_columns=_KEY_COLUMNS)


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


def _linker(table: pa.Table, settings_dict: dict[str, Any], engine: Engine) -> Any:
    from splink import Linker

    name = f"records_{uuid.uuid4().hex[:12]}"  # a Spark session keeps every table registered
    frame = engine.database_api().register(table, table_name=name, dataset_display_name="records")
    return Linker(frame, settings_dict, log_level=None)


def _settings(engine: Engine, the_plan: TrainingPlan, model: MatchModel | None) -> dict[str, Any]:
    return settings(
        engine.dialect,
        model,
        comparison_names=the_plan.comparisons,
        blocking=the_plan.blocking,
    )


def train(
    batch: BatchInput,
    *,
    seed: int = 1,
    upper: float = 0.99,
    lower: float = REVIEW_FLOOR,
    progress: Progress = _silent,
    max_u_pairs: float = 5e6,
    engine: Engine = DUCKDB,
) -> MatchModel:
    """Train a model on ``batch`` itself: no labels are needed."""
    with _quiet_splink():
        table = input_table(batch)
        the_plan = _planned(table, True, progress)
        linker = _linker(table, _settings(engine, the_plan, None), engine)
        _train(linker, table, the_plan, seed, max_u_pairs, progress)
        return model_from_splink(linker.misc.save_model_to_json(), upper=upper, lower=lower)


def _planned(table: pa.Table, training: bool, progress: Progress) -> TrainingPlan:
    if training and table.num_rows < MIN_TRAINING_RECORDS:
        raise InputError(f"{table.num_rows} records are too few to train a model on; give --model")
    the_plan = plan_for(table, training=training)
    progress(f"fields with values: {the_plan.describe_fill()}")
    progress(f"blocking keys with pairs: {', '.join(the_plan.blocking) or 'none'}")
    return the_plan


def _train(
    linker: Any,
    table: pa.Table,
    the_plan: TrainingPlan,
    seed: int,
    max_u_pairs: float,
    progress: Progress,
) -> None:
    started = time.perf_counter()
    if the_plan.prior_rules:
        rules = ", ".join(rule.description for rule in the_plan.prior_rules)
        progress(f"estimating the share of pairs that are the same person from: {rules}")
        linker.training.estimate_probability_two_random_records_match(
            [rule.sql for rule in the_plan.prior_rules], recall=0.7
        )
    else:
        progress("no exact rule finds pairs: the share of matching pairs stays at 1e-4")
    size = table.num_rows
    pairs = min(max_u_pairs, size * (size - 1) / 2)
    progress(f"estimating u from {pairs:,.0f} random pairs")
    linker.training.estimate_u_using_random_sampling(max_pairs=pairs, seed=seed)
    # Each session estimates m for the comparisons its rule does not use (plan.EM_RULES).
    for rule, count in zip(the_plan.em_rules, the_plan.em_pairs, strict=True):
        sampled = count > MAX_EM_PAIRS
        progress(
            f"estimating m by expectation maximisation, pairs with {rule.description}"
            f" ({count:,}{f', sampled down to {MAX_EM_PAIRS:,.0f}' if sampled else ''})"
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule.sql, max_pairs=MAX_EM_PAIRS if sampled else None
        )
    progress(f"trained in {time.perf_counter() - started:.1f} s")


def deduplicate(
    batch: BatchInput,
    *,
    threshold: float = 0.97,
    model: MatchModel | None = None,
    seed: int = 1,
    progress: Progress = _silent,
    max_u_pairs: float = 5e6,
    engine: Engine = DUCKDB,
) -> DedupResult:
    """Pairs and clusters of ``batch`` at ``threshold``, training a model unless given one."""
    if not 0.0 < threshold < 1.0:
        raise InputError(f"threshold {threshold} must be between 0 and 1")
    with _quiet_splink():
        progress(f"normalizing {len(batch.ids):,} records")
        table = input_table(batch)
        the_plan = _planned(table, model is None, progress)
        if model is None:
            linker = _linker(table, _settings(engine, the_plan, None), engine)
            _train(linker, table, the_plan, seed, max_u_pairs, progress)
            model = model_from_splink(
                linker.misc.save_model_to_json(),
                upper=threshold,
                lower=min(REVIEW_FLOOR, threshold),
            )
        # Predict with the model as saved, so that its pairs are the ones the online
        # matcher, or a later run with --model, would find.
        linker = _linker(table, _settings(engine, the_plan, model), engine)
        progress("scoring pairs that share a blocking key")
        started = time.perf_counter()
        predictions = linker.inference.predict(threshold_match_probability=threshold)
        rows = predictions.as_pyarrow_table()
        progress(f"scored in {time.perf_counter() - started:.1f} s: {rows.num_rows:,} pairs")
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
    clusters = clusters_of(batch.ids, ((p.id_l, p.id_r) for p in pairs))
    progress(f"{len(pairs):,} pairs, {len(set(clusters.values())):,} clusters")
    return DedupResult(pairs, clusters, model)


def clusters_of(ids: Iterable[str], pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Connected components of ``pairs`` over ``ids``, each named after its smallest id.

    splink's own clustering does the same at the same threshold, but on Spark it runs a
    job per iteration; the pairs are in this process anyway, and union-find over a few
    million of them takes seconds.
    """
    parent = {rec_id: rec_id for rec_id in ids}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {rec_id: root(rec_id) for rec_id in parent}


def write_pairs(path: Path, pairs: Sequence[Pair]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("id_l", "id_r", "match_probability"))
        writer.writerows((p.id_l, p.id_r, f"{p.match_probability:.6f}") for p in pairs)


def write_clusters(path: Path, ids: Sequence[str], clusters: dict[str, str]) -> None:
    """A cluster for every record: one that no pair joined is a cluster of its own."""
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
