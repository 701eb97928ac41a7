"""Splink on Spark (local[2]) finds the same pairs as on DuckDB, with the same settings.

Needs Java 17 or later. Without it the module is skipped, saying so; CI installs Debian's
JRE and sets TONLE_REQUIRE_SPARK=1 (CI=true does as well), so there it fails instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from identity_store.matching.backlog import BatchInput
from identity_store.matching.batch import DUCKDB, deduplicate
from sandbox.duplicates import generate_registrations

REQUIRED = bool(os.environ.get("TONLE_REQUIRE_SPARK") or os.environ.get("CI"))


def _java() -> bool:
    home = os.environ.get("JAVA_HOME")
    return shutil.which("java") is not None or bool(home and os.path.exists(f"{home}/bin/java"))


if not _java():
    message = "no Java: the Spark tests need Java 17 or later (Debian: apt-get install default-jre-headless)"
    if REQUIRED:
        pytest.fail(f"TONLE_REQUIRE_SPARK (or CI) is set but there is {message}", pytrace=False)
    pytest.skip(message, allow_module_level=True)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from identity_store.matching.spark import SparkEngine, spark_session

    with spark_session("local[2]") as session:
        yield SparkEngine(session)


@pytest.fixture(scope="module")
def batch() -> BatchInput:
    data = generate_registrations(150, seed=17)
    records = data.records
    return BatchInput(tuple(r.rec_id for r in records), tuple(r.match_record() for r in records))


def test_spark_finds_the_pairs_duckdb_finds_with_the_same_model(spark, batch) -> None:
    trained = deduplicate(batch, threshold=0.9, seed=3).model
    # A low threshold keeps the borderline pairs, where the engines' string functions
    # would first disagree.
    on_duckdb = deduplicate(batch, threshold=0.2, model=trained, engine=DUCKDB)
    on_spark = deduplicate(batch, threshold=0.2, model=trained, engine=spark)
    assert len(on_duckdb.pairs) > 50
    assert [(p.id_l, p.id_r) for p in on_spark.pairs] == [(p.id_l, p.id_r) for p in on_duckdb.pairs]
    for left, right in zip(on_spark.pairs, on_duckdb.pairs, strict=True):
        assert left.match_probability == pytest.approx(right.match_probability, rel=1e-9)
    assert on_spark.clusters == on_duckdb.clusters
