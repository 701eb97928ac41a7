"""Splink on Spark: the same settings as on DuckDB, for a national run on a cluster.

``pyspark`` is an optional dependency (``pip install 'tonle[spark]'``) and needs Java 17
or later. A session here carries splink's similarity functions (its UDF jar, which Spark
ships to the executors) and a checkpoint directory, where splink writes the tables it
breaks lineage at: on a cluster, storage that every executor reaches.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from identity_store.matching.errors import InputError

# A small local run spends its time on scheduling hundreds of tiny tasks otherwise.
LOCAL_DEFAULTS = {
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.showConsoleProgress": "false",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.driver.memory": "2g",
}


class SparkEngine:
    """Splink's Spark backend over one session."""

    dialect = "spark"

    def __init__(self, session: Any) -> None:
        self.session = session

    def database_api(self) -> Any:
        from splink import SparkAPI

        return SparkAPI(spark_session=self.session, break_lineage_method="parquet")


def _is_local(master: str) -> bool:
    return master == "local" or master.startswith("local[")


@contextmanager
def spark_session(
    master: str = "local[*]",
    conf: Mapping[str, str] | None = None,
    checkpoint_dir: str | None = None,
) -> Iterator[Any]:
    """A Spark session for splink, stopped on leaving.

    ``master`` is a Spark master URL (``local[2]``, ``spark://host:7077``, ``yarn``,
    ``k8s://...``); ``conf`` any Spark settings. Without ``checkpoint_dir`` a local
    master checkpoints to a temporary directory; a cluster needs one its executors reach.
    """
    try:
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location
    except ImportError:
        raise InputError(
            "--engine spark needs pyspark: pip install 'tonle[spark]' (and Java 17 or later)"
        ) from None
    local = _is_local(master)
    if checkpoint_dir is None and not local:
        raise InputError(
            f"--spark-master {master}: give --spark-checkpoint-dir on storage every executor"
            " reaches (hdfs://..., s3a://..., or a shared mount)"
        )
    settings = {**(LOCAL_DEFAULTS if local else {}), **(conf or {})}
    builder = SparkSession.builder.master(master).appName("tonle dedup")
    builder = builder.config("spark.jars", similarity_jar_location())
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as error:  # pyspark raises its own runtime errors, and OSError
        raise InputError(
            f"Spark did not start ({type(error).__name__}): it needs Java 17 or later on"
            " PATH or in JAVA_HOME (Debian: apt-get install default-jre-headless)"
        ) from None
    scratch = None
    if checkpoint_dir is None:
        scratch = checkpoint_dir = tempfile.mkdtemp(prefix="tonle-spark-")
    try:
        session.sparkContext.setLogLevel("ERROR")
        session.sparkContext.setCheckpointDir(checkpoint_dir)
        yield session
    finally:
        session.stop()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
