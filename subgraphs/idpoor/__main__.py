"""``python -m subgraphs.idpoor``: run the idpoor subgraph alone (needs TONLE_IDPOOR_URL)."""

from __future__ import annotations

import argparse

import uvicorn

from subgraphs.idpoor.app import create_app


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve the subgraph until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m subgraphs.idpoor", description=__doc__)
    parser.add_argument("--port", type=int, default=4002)
    parser.add_argument("--operator-url", help="the IDPoor system (default: TONLE_IDPOOR_URL)")
    args = parser.parse_args(argv)
    uvicorn.run(create_app(args.operator_url), host="127.0.0.1", port=args.port, access_log=False)


if __name__ == "__main__":
    main()
