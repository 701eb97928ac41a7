"""``python -m subgraphs.coverage``: run the coverage subgraph (needs the gateway's URL)."""

from __future__ import annotations

import argparse

from subgraphs.coverage.app import GATEWAY_URL_ENV, PORT, create_app
from subgraphs.serve import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m subgraphs.coverage",
        description="Run the coverage subgraph; it pages through the gateway as each caller.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--gateway-url", help=f"the gateway's /graphql URL ({GATEWAY_URL_ENV})")
    args = parser.parse_args(argv)
    run(create_app(args.gateway_url), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
