"""Masks: rules that turn a value into a safer one of the same GraphQL type.

A mask applies to a leaf field (a scalar or an enum, or a list of them); lists are masked
item by item and null stays null. Each mask says which types it keeps valid, so that a
policy naming a mask on a field it cannot serve is refused when it is checked, not when
a partner's request is shaped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLScalarType,
)

MaskFunction = Callable[[Any], Any]

_DATE = re.compile(r"^(\d{4})(-\d{2}(-\d{2}([T ].*)?)?)?$")
_TEXT_SCALARS = frozenset({"String", "ID"})
_DATE_SCALARS = frozenset({"Date", "DateTime", "String"})


def _unwrap(type_: GraphQLOutputType) -> tuple[Any, bool]:
    """The named leaf type under lists and non-nulls, and whether the field is nullable."""
    nullable = not isinstance(type_, GraphQLNonNull)
    inner: Any = type_
    while isinstance(inner, GraphQLNonNull | GraphQLList):
        inner = inner.of_type
    return inner, nullable


def _is_list(type_: GraphQLOutputType) -> bool:
    inner: Any = type_
    while isinstance(inner, GraphQLNonNull):
        inner = inner.of_type
    return isinstance(inner, GraphQLList)


def _shaped(function: MaskFunction, blank: Any, lists: bool) -> MaskFunction:
    """``function`` (which takes None to None, and a value it cannot read to None) made
    to give ``blank`` for an unreadable value, and to mask a list item by item.

    Masks run for every value a response holds: the common case, a field that is no
    list and a mask that reads every value, is ``function`` itself.
    """
    if blank is not None:
        plain = function

        def function(value: Any) -> Any:
            result = plain(value)
            return blank if result is None and value is not None else result

    if not lists:
        return function
    one = function

    def each(value: Any) -> Any:
        if isinstance(value, list):
            return [each(item) for item in value]
        return one(value)

    return each


def _last4(value: Any) -> Any:
    if value is None:
        return None
    text = str(value)
    return "*" * max(len(text) - 4, 0) + text[-4:]


def _year(value: Any) -> Any:
    if value is None:
        return None
    text = str(value)
    found = _DATE.match(text)
    if found is None:
        return None
    year = found.group(1)
    if found.group(2) is None:
        return year
    # A Date keeps its type as the first day of the year, a DateTime as its first instant;
    # a text date that was only ever a year stays a year.
    return f"{year}-01-01T00:00:00" if found.group(4) else f"{year}-01-01"


def _year_text(value: Any) -> Any:
    if value is None:
        return None
    found = _DATE.match(str(value))
    return found.group(1) if found else None


def _initial(value: Any) -> Any:
    if value is None:
        return None
    text = str(value).strip()
    return f"{text[0]}." if text else text


def _commune(value: Any) -> Any:
    if value is None:
        return None
    text = str(value)
    # Gazetteer codes: province 2 digits, district 4, commune 6, village 8. Anything else
    # is not a code this mask can cut, and is not let through.
    if not text.isdigit() or len(text) not in (2, 4, 6, 8):
        return None
    return text[:6]


def _match_only(value: Any) -> Any:
    if value is None:
        return None
    return "MATCH" if value == "MATCH" else "MISMATCH"


@dataclass(frozen=True)
class Mask:
    """One masking rule: its name, what it does, and which field types it keeps valid."""

    name: str
    description: str

    def check(self, type_: GraphQLOutputType) -> str | None:
        """None when the mask keeps a field of ``type_`` valid, else what is wrong."""
        leaf, nullable = _unwrap(type_)
        if self.name == "nullify":
            if not nullable:
                return "nullify needs a nullable field; hide it or use another mask"
            return None
        if self.name == "match_only":
            if isinstance(leaf, GraphQLEnumType) and {"MATCH", "MISMATCH"} <= set(leaf.values):
                return None
            return "match_only applies to an enum with MATCH and MISMATCH values"
        if not isinstance(leaf, GraphQLScalarType):
            return f"{self.name} applies to scalar fields; {leaf} is not one"
        allowed = _DATE_SCALARS if self.name == "year" else _TEXT_SCALARS
        if leaf.name not in allowed:
            return f"{self.name} applies to {', '.join(sorted(allowed))} fields, not {leaf.name}"
        return None

    def function(
        self, type_: GraphQLOutputType, *, partner: str, pseudonym_key: bytes | None
    ) -> MaskFunction:
        """The function that masks one value of a field of ``type_`` for ``partner``.

        A value the mask cannot read (a text that is no date, under ``year``) is never let
        through: it becomes null, or the empty string where the field may not be null.
        """
        leaf, nullable = _unwrap(type_)
        blank = None if nullable else ""
        lists = _is_list(type_)
        if self.name == "nullify":
            return lambda value: None
        if self.name == "pseudonym":
            if pseudonym_key is None:
                raise ValueError("the pseudonym mask needs a pseudonym key (TONLE_PSEUDONYM_KEY)")
            return _shaped(_pseudonymizer(pseudonym_key, partner), None, lists)
        if self.name == "year":
            is_text = getattr(leaf, "name", "") == "String"
            return _shaped(_year_text if is_text else _year, blank, lists)
        # last4, initial and match_only read every value: no blank to stand in.
        can_fail = self.name == "commune"
        return _shaped(_FUNCTIONS[self.name], blank if can_fail else None, lists)


def _pseudonymizer(key: bytes, partner: str) -> MaskFunction:
    # Keyed per partner: one partner's pseudonyms cannot be joined with another's, and
    # the same value gives the same pseudonym in every field, so rows still link up.
    partner_key = hmac.new(key, partner.encode(), hashlib.sha256).digest()

    def pseudonym(value: Any) -> str | None:
        if value is None:
            return None
        digest = hmac.new(partner_key, str(value).encode(), hashlib.sha256).digest()
        return "ps_" + base64.b32encode(digest[:10]).decode().lower()

    return pseudonym


_FUNCTIONS: dict[str, MaskFunction] = {
    "last4": _last4,
    "initial": _initial,
    "commune": _commune,
    "match_only": _match_only,
}

MASKS: dict[str, Mask] = {
    mask.name: mask
    for mask in (
        Mask("nullify", "always null"),
        Mask("last4", "all but the last four characters starred: *****6789"),
        Mask("year", "a date cut to its year: 1985-01-01 (a Date), 1985 (a text date)"),
        Mask("initial", "the first letter and a full stop: S."),
        Mask("commune", "a gazetteer code cut to its commune (6 digits)"),
        Mask("pseudonym", "a keyed HMAC, stable per partner: ps_..."),
        Mask("match_only", "a verification verdict cut to MATCH or MISMATCH"),
    )
}
