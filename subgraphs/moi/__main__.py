"""``python -m subgraphs.moi``: run the moi subgraph alone (needs TONLE_MOI_URL)."""

from __future__ import annotations

from subgraphs.moi.schema import MOI

if __name__ == "__main__":
    MOI.main()
