"""The identity subgraph: ``Person`` and ``Query.person``/``Query.people`` over the registry."""

from __future__ import annotations

from subgraphs.identity.app import create_app
from subgraphs.identity.schema import schema

__all__ = ["create_app", "schema"]
