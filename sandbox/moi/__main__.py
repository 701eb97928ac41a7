"""``python -m sandbox.moi``: run the MoI sandbox alone, seeding it on first start."""

from __future__ import annotations

from sandbox.moi.app import MOI
from sandbox.service import run_sandbox

if __name__ == "__main__":
    run_sandbox(MOI, name="moi", port=4103)
