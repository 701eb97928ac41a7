"""The idpoor subgraph: ``Person.idpoor``, fetched live from the Ministry of Planning's system."""

from __future__ import annotations

from subgraphs.idpoor.app import create_app
from subgraphs.idpoor.schema import schema
from subgraphs.idpoor.settings import IdPoorSettings

__all__ = ["IdPoorSettings", "create_app", "schema"]
