"""Composing Federation v2 subgraphs into a supergraph SDL, with no outside tool."""

from __future__ import annotations

from gateway.composition.compose import compose
from gateway.composition.errors import CompositionError, CompositionIssue
from gateway.composition.fetch import fetch_subgraph_sdl
from gateway.composition.source import SubgraphSource, graph_enum_name

__all__ = [
    "CompositionError",
    "CompositionIssue",
    "SubgraphSource",
    "compose",
    "fetch_subgraph_sdl",
    "graph_enum_name",
]
