"""The moi subgraph: Khmer ID verification, live from the Ministry of Interior."""

from __future__ import annotations

from subgraphs.moi.schema import MOI, schema

create_app = MOI.create_app

__all__ = ["MOI", "create_app", "schema"]
