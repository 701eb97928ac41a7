"""What a coverage report asks the gateway: which fields the partner sees, then pages of people.

The partner's schema is its agreement made visible: a hidden field is absent from it, and a
masked one says so in its description ("Masked for you (mask): ..."). One introspection
request reads the few types a report needs; the page query then asks only for what the
measures that can be counted read (:func:`analysts.coverage.available`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysts.coverage import Available, CoverageError, available

TYPES = (
    "Query",
    "PersonConnection",
    "Person",
    "IdPoorStatus",
    "NssfMembership",
    "CertifiedPayment",
    "Address",
    "Place",
)
FIELDS_QUERY = (
    "query CoverageFields {\n"
    + "".join(
        f'  {name}: __type(name: "{name}") {{ fields {{ name description args {{ name }} }} }}\n'
        for name in TYPES
    )
    + "}\n"
)
_MASK = re.compile(r"Masked for you \(([a-z_0-9]+)\)")


@dataclass(frozen=True)
class PartnerFields:
    """The fields of the partner's schema a report reads: visible, masked, arguments."""

    visible: frozenset[str]  # "Type.field"
    masked: Mapping[str, str]  # "Type.field" -> mask
    arguments: Mapping[str, frozenset[str]]  # "Type.field" -> argument names

    @classmethod
    def from_answer(cls, data: Mapping[str, Any]) -> PartnerFields:
        visible: set[str] = set()
        masked: dict[str, str] = {}
        arguments: dict[str, frozenset[str]] = {}
        for type_name in TYPES:
            found = data.get(type_name) or {}
            for item in found.get("fields") or ():
                name = f"{type_name}.{item['name']}"
                visible.add(name)
                arguments[name] = frozenset(a["name"] for a in item.get("args") or ())
                mask = _MASK.search(item.get("description") or "")
                if mask is not None:
                    masked[name] = mask.group(1)
        return cls(frozenset(visible), masked, arguments)


@dataclass(frozen=True)
class PageQuery:
    """The page query of one report, and what it lets the report count."""

    document: str
    available: Available
    area_argument: str
    total: bool  # whether it asks for totalCount (progress only)


def page_query(fields: PartnerFields, level: str, by: str | None) -> PageQuery:
    """The query for pages of the people of an area at ``level``, broken down ``by``."""
    argument = f"{level}Code"
    if "Query.people" not in fields.visible:
        raise CoverageError("your agreement does not let you list people (Query.people)")
    if argument not in fields.arguments.get("Query.people", ()):
        raise CoverageError(
            f"your agreement does not let you select people by {level} "
            f"(Query.people({argument}) is hidden from you, as the place it searches by is)"
        )
    if not {"PersonConnection.edges", "PersonConnection.pageInfo"} <= fields.visible:
        raise CoverageError("your agreement does not let you page through people")
    have = available(fields.visible, fields.masked, by)
    shown = fields.visible - set(fields.masked)
    node: list[str] = []
    places = []
    if by is not None:
        places.append(f"{by} {{ code{' nameEn' if have.names else ''} }}")
    if {"Person.address", f"Address.{level}", "Place.nameEn"} <= shown:
        places.append(f"{level} {{ nameEn }}")  # the area's own name, for the title
    if places:
        node.append(f"address {{ {' '.join(dict.fromkeys(places))} }}")
    if have.idpoor:
        node.append("idpoor { level }")
    if have.nssf:
        node.append("nssf { active schemes }")
    if have.pca:
        node.append("pcaPayments { programme period status }")
    total = "PersonConnection.totalCount" in fields.visible
    document = (
        "query CoveragePage($area: String!, $first: Int!, $after: String) {\n"
        f"  people({argument}: $area, first: $first, after: $after) {{\n"
        + ("    totalCount\n" if total else "")
        + "    pageInfo { hasNextPage endCursor }\n"
        + f"    edges {{ node {{ __typename {' '.join(node)} }} }}\n"
        + "  }\n}\n"
    )
    return PageQuery(document, have, argument, total)
