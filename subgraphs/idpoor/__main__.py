"""``python -m subgraphs.idpoor``: run the idpoor subgraph alone (needs TONLE_IDPOOR_URL)."""

from __future__ import annotations

from subgraphs.idpoor.schema import IDPOOR

if __name__ == "__main__":
    IDPOOR.main()
