"""The PCA sandbox: the Payment Certification Authority's system, simulated."""

from __future__ import annotations

from sandbox.pca.app import PCA, create_app, seed
from sandbox.pca.records import CertifiedPayment, certified_payments

__all__ = ["PCA", "CertifiedPayment", "certified_payments", "create_app", "seed"]
