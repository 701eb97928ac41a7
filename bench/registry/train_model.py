"""Train the shipped default model (identity_store/matching/default_model.json).

splink trains it without labels on generated registrations (sandbox.duplicates, seed 7,
20,000 people), exactly as ``tonle dedup --model-out`` would on a CSV; the thresholds
were chosen with ``bench.registry.quality`` on other seeds. Reproduce with

    python -m bench.registry.train_model
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from identity_store.matching.backlog import BatchInput
from identity_store.matching.batch import train
from sandbox.duplicates import generate_registrations

DEFAULT_OUT = Path(__file__).parents[2] / "identity_store" / "matching" / "default_model.json"
UPPER = 0.9
LOWER = 0.2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.registry.train_model")
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--upper", type=float, default=UPPER)
    parser.add_argument("--lower", type=float, default=LOWER)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    data = generate_registrations(args.people, args.seed)
    batch = BatchInput(
        tuple(r.rec_id for r in data.records), tuple(r.match_record() for r in data.records)
    )
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr)

    model = train(batch, seed=args.seed, upper=args.upper, lower=args.lower, progress=progress)
    model.save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
