"""The nssf subgraph: ``Person.nssf``, live from the National Social Security Fund's system."""

from __future__ import annotations

from subgraphs.nssf.schema import NSSF, schema

create_app = NSSF.create_app

__all__ = ["NSSF", "create_app", "schema"]
