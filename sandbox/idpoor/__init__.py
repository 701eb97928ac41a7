"""The IDPoor sandbox: the Ministry of Planning's system, simulated for the demo and tests."""

from __future__ import annotations

from sandbox.idpoor.app import DEFAULT_MAX_BATCH, create_app
from sandbox.idpoor.store import seed

__all__ = ["DEFAULT_MAX_BATCH", "create_app", "seed"]
