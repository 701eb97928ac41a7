"""Partners, access agreements, enforcement inputs for the gateway, and the access audit."""

from __future__ import annotations

from policies.caller import Caller
from policies.nonces import MemoryNonceStore, NonceStore, NonceStoreFull
from policies.signing import (
    MAX_SKEW_SECONDS,
    SIGNATURE_HEADER,
    RequestSigner,
    Signature,
    SignatureError,
    Signer,
    request_signer,
    sign,
    verify,
)

__all__ = [
    "MAX_SKEW_SECONDS",
    "SIGNATURE_HEADER",
    "Caller",
    "MemoryNonceStore",
    "NonceStore",
    "NonceStoreFull",
    "RequestSigner",
    "Signature",
    "SignatureError",
    "Signer",
    "request_signer",
    "sign",
    "verify",
]
