"""Partners, access agreements, enforcement inputs for the gateway, and the access audit."""

from __future__ import annotations

from policies.signing import SIGNATURE_HEADER, sign, verify

__all__ = ["SIGNATURE_HEADER", "sign", "verify"]
