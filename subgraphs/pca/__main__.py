"""``python -m subgraphs.pca``: run the pca subgraph alone (needs TONLE_PCA_URL)."""

from __future__ import annotations

from subgraphs.pca.schema import PCA

if __name__ == "__main__":
    PCA.main()
