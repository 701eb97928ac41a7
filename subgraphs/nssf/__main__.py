"""``python -m subgraphs.nssf``: run the nssf subgraph alone (needs TONLE_NSSF_URL)."""

from __future__ import annotations

from subgraphs.nssf.schema import NSSF

if __name__ == "__main__":
    NSSF.main()
