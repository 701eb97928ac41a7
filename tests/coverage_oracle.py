"""Coverage worked out directly from the sandboxes' own databases: the oracle of the tests.

Independent of analysts/coverage.py: plain SQL on each operator's SQLite file and the
population the registry was seeded from, counted by hand.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from analysts.suppression import CountTable
from sandbox.population import Population

LENGTHS = {"district": 4, "commune": 6, "village": 8}


def _rows(path: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return list(connection.execute(sql, args))


def expected_tables(
    databases: Path,
    population: Population,
    area: str,
    period: str,
    by: str | None = None,
    areas_in_scope: Iterable[str] | None = None,
) -> dict[str, CountTable]:
    """Every measure's counts, per row, from the operators' databases under ``databases``."""
    scope = tuple(areas_in_scope) if areas_in_scope is not None else None
    people = [
        p
        for p in population.people
        if p.village_code.startswith(area)
        and (scope is None or any(p.village_code.startswith(a) for a in scope))
    ]
    levels = dict(
        _rows(
            databases / "idpoor.db",
            "SELECT m.spid, h.level FROM member m JOIN household h USING (household_id)",
        )
    )
    members = {
        str(spid): (str(status), set(json.loads(str(schemes))))
        for spid, status, schemes in _rows(
            databases / "nssf.db", "SELECT spid, status, schemes FROM member"
        )
    }
    paid: defaultdict[str, set[str]] = defaultdict(set)
    for spid, programme in _rows(
        databases / "pca.db",
        "SELECT spid, programme FROM payment WHERE period = ? AND status = 'certified'",
        period,
    ):
        paid[str(spid)].add(str(programme))
    counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for p in people:
        row = counts[p.village_code[: LENGTHS[by]] if by else area]
        row["registered"] += 1
        level = levels.get(p.spid)
        row[f"idpoor:level_{level}" if level else "idpoor:not_poor"] += 1
        status, schemes = members.get(p.spid, ("", set()))
        active = status == "active"
        if active:
            row["nssf:active"] += 1
            for scheme in ("occupational_risk", "health_care", "pension"):
                row[f"nssf:{scheme}"] += scheme in schemes
        programmes = paid.get(p.spid, set())
        row["pca:any"] += bool(programmes)
        for programme in programmes:
            row[f"pca:{programme}"] += 1
        row["overlaps:poor_health_care"] += bool(level and active and "health_care" in schemes)
        row["overlaps:paid_not_poor_not_member"] += bool(
            programmes and not level and p.spid not in members
        )
        row["overlaps:poor_uncovered"] += bool(level and not active and not programmes)
    programmes = sorted({name for p in people for name in paid.get(p.spid, ())})
    columns = {
        "registered": ("people",),
        "idpoor": ("level_1", "level_2", "not_poor"),
        "nssf": ("active", "occupational_risk", "health_care", "pension"),
        "pca": ("any", *programmes),
        "overlaps": ("poor_health_care", "paid_not_poor_not_member", "poor_uncovered"),
    }
    codes = sorted(counts)
    return {
        name: CountTable(
            rows=tuple(codes),
            columns=cols,
            counts=tuple(
                tuple(
                    counts[code]["registered" if name == "registered" else f"{name}:{c}"]
                    for c in cols
                )
                for code in codes
            ),
            partition=name == "idpoor",
        )
        for name, cols in columns.items()
    }
