"""``tonle dedup``: batch de-duplication of a CSV with splink (DuckDB, embedded, or Spark)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

EXAMPLE = """\
example:
  tonle dedup people.csv --id-column rec_id \\
      --map family_name=surname --map given_name=given --map birth_date=dob \\
      --map sex=sex --map village_code=village --map phone=phone \\
      --pairs pairs.csv --clusters clusters.csv --model-out model.json

fields a --map may name: family_name, given_name, family_name_km, given_name_km,
birth_date, sex, village_code, phone, khmer_id, address, locality, postcode,
external_id. Dates: YYYY-MM-DD, YYYYMMDD, DD/MM/YYYY, YYYY-MM or YYYY (the
precision is kept). Empty cells are missing values; so are values that cannot be
read (an impossible date, a Khmer ID that is not 9 digits, ...), which are counted
and reported by column at the end (--strict stops at the first one instead).

on Spark (pip install 'tonle[spark]', Java 17 or later), here or on a cluster:
  tonle dedup people.csv ... --engine spark --spark-master spark://head:7077 \
      --spark-checkpoint-dir hdfs:///tmp/tonle --spark-conf spark.executor.memory=8g

over the registry (ids are SPIDs; pairs found become review cases on request):
  tonle dedup --registry postgresql+asyncpg://tonle@db/registry \
      --pairs pairs.csv --clusters clusters.csv --open-review-cases
"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dedup = sub.add_parser(
        "dedup",
        help="find the records of a CSV that are the same person (splink)",
        description="Train a match model on the CSV itself (no labels), then write the pairs "
        "judged to be the same person and a cluster for every record.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dedup.add_argument("input", type=Path, metavar="INPUT.csv", nargs="?")
    dedup.add_argument("--id-column", help="the column that names each record (CSV input)")
    dedup.add_argument(
        "--registry",
        nargs="?",
        const="",
        metavar="DATABASE_URL",
        help="de-duplicate the registry's people instead of a CSV "
        "(default URL: TONLE_DATABASE_URL)",
    )
    dedup.add_argument(
        "--open-review-cases",
        action="store_true",
        help="with --registry: open a review case for every pair found (never merges)",
    )
    dedup.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="read FIELD from COLUMN (repeat for each field)",
    )
    dedup.add_argument(
        "--pairs", type=Path, required=True, help="write id_l,id_r,match_probability"
    )
    dedup.add_argument("--clusters", type=Path, required=True, help="write id,cluster_id")
    dedup.add_argument(
        "--model-out", type=Path, help="save the trained model (tonle-match-model/1)"
    )
    dedup.add_argument(
        "--model", type=Path, help="use this trained model instead of training on the input"
    )
    dedup.add_argument(
        "--threshold",
        type=float,
        default=0.97,
        metavar="P",
        help="match probability at or above which two records are the same person (default 0.97)",
    )
    dedup.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first value that cannot be read (default: read it as missing)",
    )
    dedup.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="where splink runs: DuckDB in this process (default) or Spark",
    )
    dedup.add_argument(
        "--spark-master",
        default="local[*]",
        metavar="URL",
        help="with --engine spark: the Spark master (default local[*])",
    )
    dedup.add_argument(
        "--spark-conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="with --engine spark: a Spark setting (repeat for each)",
    )
    dedup.add_argument(
        "--spark-checkpoint-dir",
        metavar="DIR",
        help="with --engine spark: where splink checkpoints tables; on a cluster, storage "
        "every executor reaches (default for a local master: a temporary directory)",
    )
    dedup.add_argument("--seed", type=int, default=1, help="seed of the random sampling for u")
    dedup.add_argument("--quiet", action="store_true", help="no progress on stderr")
    dedup.set_defaults(func=dedup_command)


def dedup_command(args: argparse.Namespace) -> int:
    from identity_store.matching import InputError
    from identity_store.matching.batch import deduplicate, write_clusters, write_pairs

    started = time.perf_counter()

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - started:7.1f} s] {message}", file=sys.stderr)

    try:
        model, people, batch = _input(args, progress)
        with _engine(args) as engine:
            result = deduplicate(batch, threshold=args.threshold, model=model, seed=args.seed,
                                 progress=progress, engine=engine)  # fmt: skip
    except InputError as error:
        print(f"tonle dedup: {error}", file=sys.stderr)
        return 2
    write_pairs(args.pairs, result.pairs)
    write_clusters(args.clusters, batch.ids, result.clusters)
    progress(f"wrote {args.pairs} and {args.clusters}")
    if args.model_out is not None:
        result.model.save(args.model_out)
        progress(f"saved the model to {args.model_out}")
    if args.registry is not None and args.open_review_cases:
        pairs = [(pair.id_l, pair.id_r) for pair in result.pairs]
        opened = asyncio.run(_open_cases(args.registry, pairs, people, result.model))
        progress(f"opened {opened} review cases ({len(pairs) - opened} pairs already had one)")
    for column in batch.unreadable:
        # a warning, even with --quiet: these records were matched without these values
        print(f"tonle dedup: {column.describe()}", file=sys.stderr)
    return 0


def _input(args: argparse.Namespace, progress: Callable[[str], None]) -> tuple[Any, Any, Any]:
    """The model given (or None), the registry's people (or None), and the records."""
    from identity_store.matching import InputError, MatchModel
    from identity_store.matching.backlog import parse_mapping, read_csv

    model = None
    if args.model is not None:
        try:
            model = MatchModel.load(args.model)
        except (OSError, ValueError, KeyError) as error:
            raise InputError(f"--model {args.model}: {error}") from None
    if args.engine != "spark" and (args.spark_conf or args.spark_checkpoint_dir):
        raise InputError("--spark-conf and --spark-checkpoint-dir go with --engine spark")
    if args.registry is not None:
        if args.input is not None or args.id_column or args.map:
            raise InputError(
                "give either INPUT.csv (with --id-column and --map) or --registry, not both"
            )
        people, batch = asyncio.run(_registry_input(args.registry, progress))
        return model, people, batch
    if args.input is None or not args.id_column:
        raise InputError(
            "give INPUT.csv with --id-column (and --map FIELD=COLUMN for each field), "
            "or --registry to de-duplicate the registry"
        )
    if args.open_review_cases:
        raise InputError("--open-review-cases works with --registry only")
    mapping = parse_mapping(args.map)
    return model, None, read_csv(args.input, args.id_column, mapping, progress, strict=args.strict)


@contextmanager
def _engine(args: argparse.Namespace) -> Iterator[Any]:
    from identity_store.matching import InputError
    from identity_store.matching.batch import DUCKDB

    if args.engine == "duckdb":
        yield DUCKDB
        return
    from identity_store.matching.spark import SparkEngine, spark_session

    conf = {}
    for item in args.spark_conf:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--spark-conf {item!r}: expected KEY=VALUE")
        conf[key.strip()] = value.strip()
    with spark_session(args.spark_master, conf, args.spark_checkpoint_dir) as session:
        yield SparkEngine(session)


async def _registry_input(url: str, progress: Callable[[str], None]) -> tuple[Any, Any]:
    from identity_store import create_engine, database_url, registry_records, session_factory
    from identity_store.matching.backlog import BatchInput

    engine = create_engine(url or database_url())
    try:
        progress("reading the registry")
        people = await registry_records(session_factory(engine))
    finally:
        await engine.dispose()
    progress(f"read {len(people.spids)} people")
    return people, BatchInput(people.spids, people.records)


async def _open_cases(url: str, pairs: list[tuple[str, str]], people: Any, model: Any) -> int:
    from identity_store import create_engine, database_url, open_review_cases, session_factory

    engine = create_engine(url or database_url())
    try:
        return await open_review_cases(session_factory(engine), pairs, people, model)
    finally:
        await engine.dispose()
