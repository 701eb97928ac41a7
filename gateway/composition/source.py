"""A subgraph to compose, and the name its graph gets in the supergraph."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SubgraphSource:
    """A subgraph to compose: its name, where the gateway reaches it, and its SDL."""

    name: str
    url: str
    sdl: str


def graph_enum_name(name: str) -> str:
    """``my-subgraph`` becomes ``MY_SUBGRAPH``, as Apollo's composition names graphs."""
    value = re.sub(r"[^A-Za-z0-9_]", "_", name).upper()
    return "_" + value if value[:1].isdigit() else value
