"""``python -m sandbox.idpoor``: run the IDPoor sandbox alone, seeding it on first start."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from sandbox.idpoor.app import create_app
from sandbox.population import generate_population


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, seed the database if asked, and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.idpoor", description=__doc__)
    parser.add_argument("--database", type=Path, default=Path(".tonle/idpoor.db"))
    parser.add_argument("--port", type=int, default=4101)
    parser.add_argument(
        "--people", type=int, default=2000, help="synthetic people to seed (0: seed nothing)"
    )
    parser.add_argument("--seed", type=int, default=0, help="population seed")
    args = parser.parse_args(argv)
    population = generate_population(args.people, args.seed) if args.people > 0 else None
    app = create_app(args.database, seed_population=population)
    uvicorn.run(app, host="127.0.0.1", port=args.port, access_log=False)


if __name__ == "__main__":
    main()
