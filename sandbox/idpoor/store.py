"""The IDPoor sandbox's own SQLite database: identified-poor households and their members."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sandbox.population import IdPoorHousehold, Population

SCHEMA = """
CREATE TABLE IF NOT EXISTS household (
    household_id TEXT PRIMARY KEY,
    village_code TEXT NOT NULL,
    level INTEGER NOT NULL CHECK (level IN (1, 2)),
    equity_card_number TEXT NOT NULL UNIQUE,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    round TEXT NOT NULL CHECK (round IN ('regular', 'on_demand'))
);
CREATE TABLE IF NOT EXISTS member (
    spid TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES household (household_id)
);
CREATE INDEX IF NOT EXISTS member_household ON member (household_id);
"""


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) the sandbox database at ``path``."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.executescript(SCHEMA)
    return connection


def seed(path: str | Path, population: Population | Iterable[IdPoorHousehold]) -> int:
    """Store the identified-poor households of ``population``; return how many were new.

    Idempotent: a household or member already stored is left as it is, so seeding the
    same population again adds nothing.
    """
    households = population.idpoor_households if isinstance(population, Population) else population
    connection = connect(path)
    try:
        with connection:
            before = connection.execute("SELECT count(*) FROM household").fetchone()[0]
            for h in households:
                connection.execute(
                    "INSERT OR IGNORE INTO household VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        h.household_id,
                        h.village_code,
                        h.level,
                        h.equity_card_number,
                        h.valid_from.isoformat(),
                        h.valid_until.isoformat(),
                        h.round,
                    ),
                )
                connection.executemany(
                    "INSERT OR IGNORE INTO member VALUES (?, ?)",
                    [(spid, h.household_id) for spid in h.member_spids],
                )
            after = connection.execute("SELECT count(*) FROM household").fetchone()[0]
        return int(after - before)
    finally:
        connection.close()


def _household(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "household_id": row["household_id"],
        "village_code": row["village_code"],
        "level": row["level"],
        "equity_card_number": row["equity_card_number"],
        "valid_from": row["valid_from"],
        "valid_until": row["valid_until"],
        "round": row["round"],
    }


def households_of(
    connection: sqlite3.Connection, spids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The household of each SPID that is a member of an identified-poor household."""
    if not spids:
        return {}
    marks = ",".join("?" * len(spids))
    rows = connection.execute(
        f"SELECT m.spid, h.* FROM member m JOIN household h USING (household_id) "
        f"WHERE m.spid IN ({marks})",
        list(spids),
    ).fetchall()
    return {row["spid"]: _household(row) for row in rows}


def household(connection: sqlite3.Connection, household_id: str) -> dict[str, Any] | None:
    row = connection.execute(
        "SELECT * FROM household WHERE household_id = ?", (household_id,)
    ).fetchone()
    if row is None:
        return None
    found = _household(row)
    found["member_spids"] = [
        r["spid"]
        for r in connection.execute(
            "SELECT spid FROM member WHERE household_id = ? ORDER BY spid", (household_id,)
        )
    ]
    return found
