"""``python -m bench.registry``: de-duplication quality (ours, then a public data set),
then throughput and latency."""

from __future__ import annotations

import importlib.util

from bench.registry import throughput


def main() -> int:
    status = 0
    if importlib.util.find_spec("bench.registry.quality") is not None:
        from bench.registry import public, quality

        status = quality.main([]) or 0
        print()
        status = public.main([]) or status
        print()
    return throughput.main() or status


if __name__ == "__main__":
    raise SystemExit(main())
