"""``python -m sandbox.pca``: run the PCA sandbox alone, seeding it on first start."""

from __future__ import annotations

from sandbox.pca.app import PCA
from sandbox.service import run_sandbox

if __name__ == "__main__":
    run_sandbox(PCA, name="pca", port=4104)
