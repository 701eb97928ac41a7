"""Reading the field names out of a ``@key``, ``@requires`` or ``@provides`` selection."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\.\.\.|[{}()]|[_A-Za-z][_0-9A-Za-z]*|\S")
_FRAGMENT = re.compile(r"\.\.\.\s*on\s+\w+")
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


def top_level_fields(field_set: str) -> list[str]:
    """The fields a selection picks on its own type: ``"id owner { id }"`` gives id, owner."""
    names: list[str] = []
    depth = 0
    for token in _TOKEN.findall(field_set):
        if token in ("{", "("):
            depth += 1
        elif token in ("}", ")"):
            depth -= 1
        elif depth == 0 and _NAME.fullmatch(token) and token != "on":
            names.append(token)
    return names


def all_field_names(field_set: str) -> set[str]:
    """Every field name a selection mentions, at any depth."""
    return set(_NAME.findall(_FRAGMENT.sub("", field_set)))
