"""De-duplication quality on a generated population with ground truth.

Three de-duplicators over the same operator registrations (sandbox.duplicates):

- baseline: what social registries mostly do today, linking records with the same
  Khmer ID or the same family name, given name and birth date, spelled exactly;
- online: the registry's sequential decisions, one registration at a time (exact Khmer
  ID, then blocking keys, Fellegi-Sunter score, decide) with the shipped default model;
  "review" counts as not linked (a provisional SPID);
- batch: splink over the same records as a CSV would give them, training its model on
  the input itself (no labels).

Precision, recall and F1 are over pairs of registrations: two registrations are linked
when a de-duplicator puts them in the same cluster (the same SPID).

    python -m bench.registry.quality [--people 20000] [--seed 11]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

from identity_store.matching import InMemoryRegistry, MatchModel
from identity_store.matching.backlog import BatchInput
from identity_store.matching.batch import clusters_of, deduplicate
from sandbox.duplicates import Registration, Registrations, generate_registrations

Pairs = frozenset[tuple[str, str]]


@dataclass(frozen=True)
class Quality:
    """Pairwise precision, recall and F1 against the truth."""

    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int


def quality(predicted: Pairs, truth: Pairs) -> Quality:
    tp = len(predicted & truth)
    fp, fn = len(predicted) - tp, len(truth) - tp
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Quality(precision, recall, f1, tp, fp, fn)


def pairs_of_clusters(clusters: Mapping[str, object]) -> Pairs:
    """Every pair of records (id order) that share a cluster."""
    members: dict[object, list[str]] = defaultdict(list)
    for rec_id, cluster in clusters.items():
        members[cluster].append(rec_id)
    return frozenset(
        (min(a, b), max(a, b)) for ids in members.values() for a, b in combinations(ids, 2)
    )


def baseline(records: Iterable[Registration]) -> dict[str, str]:
    """Exact Khmer ID, or exact (family name, given name, birth date)."""
    records = list(records)
    groups: dict[tuple[object, ...], list[str]] = defaultdict(list)
    for r in records:
        if r.khmer_id:
            groups[("khmer_id", r.khmer_id)].append(r.rec_id)
        if r.family_name and r.given_name and r.birth_date:
            key = (r.family_name.upper(), r.given_name.upper(), r.birth_date, r.birth_precision)
            groups[("name", *key)].append(r.rec_id)
    links = [(ids[0], other) for ids in groups.values() for other in ids[1:]]
    return clusters_of((r.rec_id for r in records), links)


def online(records: Iterable[Registration], model: MatchModel) -> tuple[dict[str, int], int]:
    """Registration decisions in arrival order; returns clusters and the review count."""
    registry = InMemoryRegistry(model)
    clusters: dict[str, int] = {}
    reviews = 0
    for r in records:
        registered = registry.register(r.match_record())
        clusters[r.rec_id] = registered.person
        reviews += registered.decision == "review"
    return clusters, reviews


def batch(records: Iterable[Registration], threshold: float, seed: int) -> dict[str, str]:
    """splink over the records, trained on them."""
    records = list(records)
    data = BatchInput(tuple(r.rec_id for r in records), tuple(r.match_record() for r in records))
    return deduplicate(data, threshold=threshold, seed=seed).clusters


@dataclass(frozen=True)
class Report:
    registrations: int
    true_pairs: int
    results: dict[str, tuple[Quality, float]]  # name -> (quality, seconds)
    reviews: int


def run(people: int, seed: int, *, threshold: float = 0.97) -> Report:
    data: Registrations = generate_registrations(people, seed)
    truth = data.true_pairs()
    results: dict[str, tuple[Quality, float]] = {}
    started = time.perf_counter()
    results["baseline (exact ID or name)"] = (
        quality(pairs_of_clusters(baseline(data.records)), truth),
        time.perf_counter() - started,
    )
    started = time.perf_counter()
    clusters, reviews = online(data.records, MatchModel.default())
    results["online matcher"] = (
        quality(pairs_of_clusters(clusters), truth),
        time.perf_counter() - started,
    )
    started = time.perf_counter()
    results["batch splink"] = (
        quality(pairs_of_clusters(batch(data.records, threshold, seed)), truth),
        time.perf_counter() - started,
    )
    return Report(len(data.records), len(truth), results, reviews)


HEADER = (
    f"{'':30} {'precision':>9} {'recall':>7} {'F1':>6} {'false +':>8} {'false -':>8} {'seconds':>8}"
)


def format_row(name: str, q: Quality, seconds: float) -> str:
    """One de-duplicator's line under :data:`HEADER`."""
    return (
        f"{name:30} {q.precision:9.4f} {q.recall:7.4f} {q.f1:6.4f} {q.false_positives:8,}"
        f" {q.false_negatives:8,} {seconds:8.1f}"
    )


def format_report(report: Report, people: int, seed: int) -> str:
    lines = [
        f"De-duplication quality: {people:,} people, {report.registrations:,} registrations,"
        f" {report.true_pairs:,} true duplicate pairs (seed {seed})",
        HEADER,
    ]
    for name, (q, seconds) in report.results.items():
        lines.append(format_row(name, q, seconds))
    lines.append(f"online matcher review cases: {report.reviews:,} (counted as not linked)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.registry.quality")
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--threshold", type=float, default=0.97, help="batch match probability")
    args = parser.parse_args(argv)
    report = run(args.people, args.seed, threshold=args.threshold)
    print(format_report(report, args.people, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
