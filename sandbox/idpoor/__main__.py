"""``python -m sandbox.idpoor``: run the IDPoor sandbox alone, seeding it on first start."""

from __future__ import annotations

from sandbox.idpoor.app import IDPOOR
from sandbox.service import run_sandbox

if __name__ == "__main__":
    run_sandbox(IDPOOR, name="idpoor", port=4101)
