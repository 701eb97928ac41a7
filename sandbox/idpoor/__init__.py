"""The IDPoor sandbox: the Ministry of Planning's system, simulated for the demo and tests."""

from __future__ import annotations

from sandbox.idpoor.app import IDPOOR, create_app, seed
from sandbox.service import DEFAULT_MAX_BATCH

__all__ = ["DEFAULT_MAX_BATCH", "IDPOOR", "create_app", "seed"]
