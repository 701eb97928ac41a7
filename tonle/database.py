"""What every command that reads the registry database shares: ``--database`` and clear failures."""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class CommandFailure(Exception):
    """A clear message for stderr, and exit status 2."""


Command = Callable[[argparse.Namespace], int]


def clear_failures(prefix: str) -> Callable[[Command], Command]:
    """A command whose failures are one line on stderr (``prefix: message``) and status 2."""

    def wrap(command: Command) -> Command:
        @functools.wraps(command)
        def run(args: argparse.Namespace) -> int:
            try:
                return command(args)
            except CommandFailure as failure:
                print(f"{prefix}: {failure}", file=sys.stderr)
                return 2

        return run

    return wrap


def database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        help="the registry database (default: TONLE_DATABASE_URL, else the demo's "
        "sqlite+aiosqlite:///.tonle/registry.db)",
    )


def run_on_database(
    args: argparse.Namespace, work: Callable[[Any], Awaitable[T]], *, what: str
) -> T:
    """Run ``work(sessions)`` on the database of ``--database`` (or the default).

    ``what`` names what is read, for the message when the database cannot be used.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from identity_store import database_url

    url = args.database or database_url()
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CommandFailure(
            "that is not a database URL; give sqlite+aiosqlite:///PATH or "
            "postgresql+asyncpg://USER@HOST/DATABASE"
        ) from None
    path = parsed.database
    sqlite_file = parsed.drivername.startswith("sqlite") and path and path != ":memory:"
    if sqlite_file and not Path(str(path)).exists():
        # Connecting would create an empty database there: say what is missing instead.
        raise CommandFailure(f"there is no SQLite database at {path}; give --database URL")
    return asyncio.run(_with_sessions(url, work, what))


async def _with_sessions(url: str, work: Callable[[Any], Awaitable[T]], what: str) -> T:
    from sqlalchemy.exc import SQLAlchemyError

    from identity_store import RegistryError, create_engine, session_factory

    try:
        engine = create_engine(url)
    except RegistryError as error:
        raise CommandFailure(str(error)) from None
    where = engine.url.render_as_string(hide_password=True)
    try:
        return await work(session_factory(engine))
    except (SQLAlchemyError, OSError) as error:
        # The class name only: a driver's message may quote values.
        raise CommandFailure(
            f"cannot read {what} in {where} ({type(error).__name__}); check that the "
            "database is reachable and migrated (tonle migrate)"
        ) from None
    finally:
        await engine.dispose()
