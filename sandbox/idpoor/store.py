"""The IDPoor sandbox's own SQLite database: identified-poor households and their members."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
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
COUNT = "SELECT count(*) FROM household"


def insert(connection: sqlite3.Connection, records: Population | Iterable[IdPoorHousehold]) -> None:
    """Store identified-poor households (of a population, or given one by one)."""
    households = records.idpoor_households if isinstance(records, Population) else records
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


def _marks(values: Sequence[str]) -> str:
    return ",".join("?" * len(values))


def households_of(
    connection: sqlite3.Connection, spids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The household of each SPID that is a member of an identified-poor household."""
    if not spids:
        return {}
    rows = connection.execute(
        f"SELECT m.spid, h.* FROM member m JOIN household h USING (household_id) "
        f"WHERE m.spid IN ({_marks(spids)})",
        list(spids),
    ).fetchall()
    return {row["spid"]: _household(row) for row in rows}


def households(
    connection: sqlite3.Connection, household_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Identified-poor households by ID, each with its members' SPIDs."""
    if not household_ids:
        return {}
    ids = list(household_ids)
    found = {
        row["household_id"]: {**_household(row), "member_spids": []}
        for row in connection.execute(
            f"SELECT * FROM household WHERE household_id IN ({_marks(ids)})", ids
        )
    }
    for row in connection.execute(
        f"SELECT household_id, spid FROM member WHERE household_id IN ({_marks(ids)}) "
        "ORDER BY spid",
        ids,
    ):
        found[row["household_id"]]["member_spids"].append(row["spid"])
    return found
