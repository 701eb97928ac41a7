"""The idpoor subgraph: ``Person.idpoor`` and ``Household.idpoor``, from the IDPoor system."""

from __future__ import annotations

from subgraphs.idpoor.schema import IDPOOR, schema

create_app = IDPOOR.create_app

__all__ = ["IDPOOR", "create_app", "schema"]
