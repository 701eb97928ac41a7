"""Batch de-duplication at scale: a million records through ``tonle dedup``'s steps on DuckDB.

Generates operator registrations with injected duplicates (``sandbox.duplicates``, the
quality benchmark's generator) until there are ``--records`` of them, writes them as the
CSV an operator would send, and times what ``tonle dedup`` does with it: reading the CSV,
normalizing and planning, training (prior, u, EM), scoring the pairs that share a blocking
key, clustering and writing. Prints each step's seconds, the peak memory of the process,
and the pairwise quality against the generator's truth.

    python -m bench.registry.dedup_scale [--records 1000000] [--seed 5] [--threshold 0.97]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.registry.quality import pairs_of_clusters, quality
from identity_store.matching.backlog import read_csv
from identity_store.matching.batch import deduplicate, write_clusters, write_pairs
from sandbox.duplicates import CSV_MAPPING, generate_registrations, true_pairs, write_csv

REGISTRATIONS_PER_PERSON = 1.3  # about what the generator gives


def run(records: int, seed: int, threshold: float) -> None:
    started = time.perf_counter()
    data = generate_registrations(int(records / REGISTRATIONS_PER_PERSON) + 1000, seed)
    registrations = data.records[:records]
    truth = true_pairs(registrations)
    print(
        f"generated {len(registrations):,} registrations ({len(truth):,} true duplicate pairs)"
        f" in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    began = time.perf_counter()

    def progress(message: str) -> None:
        print(f"  [{time.perf_counter() - began:7.1f} s] {message}", flush=True)

    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "registrations.csv"
        write_csv(registrations, source)
        began = time.perf_counter()
        batch = read_csv(source, "rec_id", CSV_MAPPING, progress)
        result = deduplicate(batch, threshold=threshold, seed=seed, progress=progress)
        write_pairs(Path(scratch) / "pairs.csv", result.pairs)
        write_clusters(Path(scratch) / "clusters.csv", batch.ids, result.clusters)
        progress("wrote pairs.csv and clusters.csv")
        total = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    q = quality(pairs_of_clusters(result.clusters), truth)
    print(
        f"tonle dedup on DuckDB, {len(batch.ids):,} records: {total:.0f} s in all"
        f" ({total / 60:.1f} min), peak memory {peak:.1f} GB;"
        f" precision {q.precision:.4f}, recall {q.recall:.4f}, F1 {q.f1:.4f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.registry.dedup_scale")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=0.97)
    args = parser.parse_args(argv)
    run(args.records, args.seed, args.threshold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
