"""The pca subgraph: ``Person.pcaPayments``, live from the Payment Certification Authority."""

from __future__ import annotations

from subgraphs.pca.schema import PCA, schema

create_app = PCA.create_app

__all__ = ["PCA", "create_app", "schema"]
