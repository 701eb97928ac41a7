"""Partners, access agreements, enforcement inputs for the gateway, and the access audit.

The package root holds what every process needs (request signing, the caller headers, the
error root). The rest is imported by module — ``policies.model``, ``policies.document``,
``policies.cedar``, ``policies.views``, ``policies.repository``, ``policies.enforcement``,
``policies.service``, ``policies.audit`` — because those load the database layer, Cedar
and the gateway's access protocol, which a subgraph checking a signature must not pay for.
"""

from __future__ import annotations

from policies.caller import Caller, MalformedCallerHeader, RowScope
from policies.errors import PolicyError
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
    "MalformedCallerHeader",
    "MemoryNonceStore",
    "NonceStore",
    "NonceStoreFull",
    "PolicyError",
    "RequestSigner",
    "RowScope",
    "Signature",
    "SignatureError",
    "Signer",
    "request_signer",
    "sign",
    "verify",
]
