"""Composing Federation v2 subgraphs into a supergraph SDL, with no outside tool."""

from __future__ import annotations

from gateway.composition.compose import SubgraphSource, compose, graph_enum_name
from gateway.composition.errors import CompositionError, CompositionIssue
from gateway.composition.fetch import fetch_subgraph_sdl

__all__ = [
    "CompositionError",
    "CompositionIssue",
    "SubgraphSource",
    "compose",
    "fetch_subgraph_sdl",
    "graph_enum_name",
]
