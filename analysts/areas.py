"""The gazetteer as the analyst page's area picker shows it: names in English and Khmer."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from identity_store.gazetteer import area_names, villages_by_code

LEVELS = ("province", "district", "commune", "village")


@dataclass(frozen=True)
class Area:
    code: str
    level: str
    name_en: str
    name_km: str


@cache
def _children() -> dict[str | None, tuple[Area, ...]]:
    """Each area's children, parents taken from the gazetteer (not from code prefixes)."""
    found: dict[str | None, list[Area]] = {}
    villages = villages_by_code()
    parents: dict[str, str] = {}
    for village in villages.values():
        parents[village.commune_code] = village.district_code
        parents[village.district_code] = village.province_code
    for level in LEVELS:
        for code, place in sorted(area_names(level).items()):
            if level == "province":
                parent = None
            elif level == "village":
                parent = villages[code].commune_code
            else:
                parent = parents.get(code, code[: len(code) - 2])
            found.setdefault(parent, []).append(Area(code, level, place.name_en, place.name_km))
    return {parent: tuple(areas) for parent, areas in found.items()}


def children_of(parent: str | None) -> tuple[Area, ...]:
    """The provinces (``parent`` None), or the areas directly inside ``parent``."""
    return _children().get(parent, ())
