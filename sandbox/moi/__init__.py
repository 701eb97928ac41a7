"""The MoI sandbox: the Ministry of Interior's Khmer ID verification, simulated."""

from __future__ import annotations

from sandbox.moi.app import MOI, create_app, seed
from sandbox.moi.records import KhmerIdRecord, khmer_id_records

__all__ = ["MOI", "KhmerIdRecord", "create_app", "khmer_id_records", "seed"]
