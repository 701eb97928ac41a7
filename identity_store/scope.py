"""Row scope: which people a caller may see at all; outside it, a person does not exist.

The rule lives here once, in two forms that must agree (a property test holds them to it):
:func:`admits`, a pure predicate over one person, and :func:`in_scope`, the same rule as
a SQL condition that lookups, area pages, counts and searches add to their statements,
so that a page of a scoped caller is full and its counts and cursors count only the
people it may see.

- ``areas``: gazetteer codes of any level (province 2 digits, district 4, commune 6,
  village 8). A person is in an area when their village lies in it *by the gazetteer*
  (the same columns ``people(communeCode:)`` pages over), not by the code's prefix:
  25 villages' codes start with another commune's code. A code of any other length
  matches the village code's prefix. An empty tuple admits no one.
- ``operator``: only people this operator registered, i.e. with a programme link of it
  (links move to the survivor on a merge, so a survivor carries its merged SPIDs' links).

Both must hold when both are given; neither given is :data:`EVERYONE`. A merged SPID is
seen as its survivor is: it answers its survivor only when the survivor is in scope.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, true

from identity_store.gazetteer import area_codes
from identity_store.models import Person, ProgramLink

# Area codes by length, and the person column holding that level (from the gazetteer).
_LEVEL_COLUMNS = {
    2: "province_code",
    4: "district_code",
    6: "commune_code",
    8: "village_code",
}


@dataclass(frozen=True)
class Scope:
    """Which people a caller may see: gazetteer areas, one operator's people, or both."""

    areas: tuple[str, ...] | None = None
    operator: str | None = None

    def __post_init__(self) -> None:
        # The codes end up in SQL (as parameters, and a LIKE prefix): digits only.
        if self.areas is not None and not all(
            isinstance(a, str) and a.isascii() and a.isdigit() and 1 <= len(a) <= 8
            for a in self.areas
        ):
            raise ValueError("scope areas are gazetteer codes: 1 to 8 digits")

    @property
    def unrestricted(self) -> bool:
        return self.areas is None and self.operator is None


EVERYONE = Scope()


def admits(scope: Scope, village_code: str, operators: Collection[str]) -> bool:
    """Whether a person living in ``village_code``, linked by ``operators``, is in scope."""
    if scope.areas is not None:
        codes = {"village_code": village_code, **area_codes(village_code)}
        if not any(_admits_area(area, village_code, codes) for area in scope.areas):
            return False
    return scope.operator is None or scope.operator in operators


def _admits_area(area: str, village_code: str, codes: dict[str, str]) -> bool:
    column = _LEVEL_COLUMNS.get(len(area))
    if column is None:
        return village_code.startswith(area)
    return codes[column] == area


def in_scope(scope: Scope, person: Any = Person) -> ColumnElement[bool]:
    """The SQL condition that ``person`` (the ``Person`` entity or an alias of it) is in scope."""
    conditions: list[ColumnElement[bool]] = []
    if scope.areas is not None:
        conditions.append(_areas_condition(scope.areas, person))
    if scope.operator is not None:
        conditions.append(
            exists().where(ProgramLink.spid == person.spid, ProgramLink.operator == scope.operator)
        )
    if not conditions:
        return true()
    return and_(*conditions) if len(conditions) > 1 else conditions[0]


def _areas_condition(areas: tuple[str, ...], person: Any) -> ColumnElement[bool]:
    by_column: dict[str, list[str]] = {}
    prefixes: list[str] = []
    for area in dict.fromkeys(areas):
        column = _LEVEL_COLUMNS.get(len(area))
        if column is None:
            prefixes.append(area)
        else:
            by_column.setdefault(column, []).append(area)
    alternatives: list[ColumnElement[bool]] = [
        getattr(person, column).in_(codes) for column, codes in by_column.items()
    ]
    alternatives += [person.village_code.startswith(prefix) for prefix in prefixes]
    if not alternatives:
        return false()
    return or_(*alternatives) if len(alternatives) > 1 else alternatives[0]


def may_resolve(scope: Scope, person: Any = Person) -> ColumnElement[bool]:
    """The condition for a lookup that follows merges afterwards: in scope, or merged.

    A merged row is kept so that its survivor can be looked up (and checked) next; a
    merged row whose survivor is out of scope is then dropped.
    """
    return or_(person.status == "merged", in_scope(scope, person))
