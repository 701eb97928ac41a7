"""``python -m subgraphs.identity``: serve the identity subgraph alone.

The registry is ``--database-url`` or ``TONLE_DATABASE_URL``; requests must be signed by the
gateway when ``TONLE_GATEWAY_SECRET`` is set (as it must be in production). Stopping, the
metrics token and listener: see :mod:`subgraphs.serve` and docs/operations.md.
"""

from __future__ import annotations

import argparse
import asyncio

import identity_store
from subgraphs.identity.app import create_app
from subgraphs.serve import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m subgraphs.identity", description="Serve the identity subgraph."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4001)
    parser.add_argument("--database-url", help="the registry (default: TONLE_DATABASE_URL)")
    parser.add_argument(
        "--migrate", action="store_true", help="bring the registry's tables up to date first"
    )
    args = parser.parse_args(argv)
    url = args.database_url or identity_store.database_url()
    if args.migrate:
        asyncio.run(identity_store.migrate(url))
    run(create_app(url), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
