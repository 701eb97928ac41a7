"""The gazetteer as the analyst page's area picker shows it: names in English and Khmer."""

from __future__ import annotations

from dataclasses import dataclass

from identity_store.gazetteer import children_of as gazetteer_children

LEVELS = {2: "province", 4: "district", 6: "commune", 8: "village"}


@dataclass(frozen=True)
class Area:
    code: str
    level: str
    name_en: str
    name_km: str


def children_of(parent: str | None) -> tuple[Area, ...]:
    """The provinces (``parent`` None), or the areas directly inside ``parent``."""
    return tuple(
        Area(place.code, LEVELS[len(place.code)], place.name_en, place.name_km)
        for place in gazetteer_children(parent)
    )
