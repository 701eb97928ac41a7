"""``python -m sandbox.nssf``: run the NSSF sandbox alone, seeding it on first start."""

from __future__ import annotations

from sandbox.nssf.app import NSSF
from sandbox.service import run_sandbox

if __name__ == "__main__":
    run_sandbox(NSSF, name="nssf", port=4102)
